/* Runs a TensorFlow SavedModel through TensorFlow's C API, for the tf-multi-language probe.
 *
 * Usage: tf_c_run EXPORT_DIR INPUT_OP OUTPUT_OP INPUT.f32 D0 D1 D2 D3 OUTPUT.f32
 * Loads EXPORT_DIR (tag "serve"), feeds the float32 tensor of shape D0..D3 read from INPUT.f32
 * to INPUT_OP:0, fetches OUTPUT_OP:0 and writes it as raw float32 to OUTPUT.f32. Prints the
 * TensorFlow version the library reports and the output's element count on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tensorflow/c/c_api.h>

static int fail(const char *what, TF_Status *status) {
  fprintf(stderr, "%s: %s\n", what, status ? TF_Message(status) : "failed");
  return 1;
}

static void free_buffer(void *data, size_t length, void *arg) { (void)length; (void)arg; free(data); }

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: %s EXPORT_DIR INPUT_OP OUTPUT_OP INPUT.f32 D0 D1 D2 D3 OUTPUT.f32\n", argv[0]);
    return 2;
  }
  int64_t dims[4];
  size_t count = 1;
  for (int i = 0; i < 4; i++) { dims[i] = atoll(argv[5 + i]); count *= (size_t)dims[i]; }
  float *values = malloc(count * sizeof(float));
  FILE *in = fopen(argv[4], "rb");
  if (!in || fread(values, sizeof(float), count, in) != count) { fprintf(stderr, "cannot read %s\n", argv[4]); return 1; }
  fclose(in);
  printf("tensorflow %s\n", TF_Version());

  TF_Status *status = TF_NewStatus();
  TF_Graph *graph = TF_NewGraph();
  TF_SessionOptions *options = TF_NewSessionOptions();
  const char *tags[] = {"serve"};
  TF_Session *session = TF_LoadSessionFromSavedModel(options, NULL, argv[1], tags, 1, graph, NULL, status);
  if (TF_GetCode(status) != TF_OK) return fail("TF_LoadSessionFromSavedModel", status);
  TF_Operation *input_op = TF_GraphOperationByName(graph, argv[2]);
  TF_Operation *output_op = TF_GraphOperationByName(graph, argv[3]);
  if (!input_op || !output_op) { fprintf(stderr, "operation %s or %s not in the graph\n", argv[2], argv[3]); return 1; }

  TF_Output input = {input_op, 0}, output = {output_op, 0};
  TF_Tensor *x = TF_NewTensor(TF_FLOAT, dims, 4, values, count * sizeof(float), free_buffer, NULL);
  TF_Tensor *y = NULL;
  TF_SessionRun(session, NULL, &input, &x, 1, &output, &y, 1, NULL, 0, NULL, status);
  if (TF_GetCode(status) != TF_OK) return fail("TF_SessionRun", status);

  size_t n = TF_TensorByteSize(y) / sizeof(float);
  FILE *out = fopen(argv[9], "wb");
  if (!out || fwrite(TF_TensorData(y), sizeof(float), n, out) != n) { fprintf(stderr, "cannot write %s\n", argv[9]); return 1; }
  fclose(out);
  printf("outputs %zu\n", n);

  TF_DeleteTensor(x);
  TF_DeleteTensor(y);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteSessionOptions(options);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  return 0;
}
