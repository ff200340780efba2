"""Pure statistics and verdicts: samples in, a ratio with its interval and a labelled verdict out.

Nothing here reads or writes a file, starts a process or imports a framework.
"""
