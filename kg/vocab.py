"""Namespaces, and the closed fwc: vocabulary (every term is defined in kg/fwc.ttl)."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

from kg import ns

BASE = ns.BASE
SCHEMA = Namespace("http://schema.org/")  # the JSON-LD context's form, not rdflib's https SDO
PROV = Namespace("http://www.w3.org/ns/prov#")
CITO = Namespace("http://purl.org/spar/cito/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
CLAIM = Namespace(BASE + "claim/")
SRC = Namespace(BASE + "source/")
BENCH = Namespace(BASE + "benchmark/")
RUN = Namespace(BASE + "run/")
ENV = Namespace(BASE + "environment/")


PREFIXES = ns.PREFIXES


class FWC(DefinedNamespace):
    """The fwclaims vocabulary."""

    _NS = Namespace(BASE + "ns#")
    _fail = True

    # classes
    Claim: URIRef
    PerformanceClaim: URIRef
    CapabilityClaim: URIRef
    AdoptionClaim: URIRef
    QualitativeClaim: URIRef
    Appearance: URIRef
    Conditions: URIRef
    Check: URIRef
    DecisionRule: URIRef
    Benchmark: URIRef
    Probe: URIRef
    DataCheck: URIRef
    Run: URIRef
    Environment: URIRef
    Measurement: URIRef
    Exploration: URIRef
    Specification: URIRef
    SourceRole: URIRef
    LifecycleNote: URIRef
    # properties
    category: URIRef
    favours: URIRef
    condition: URIRef
    checkedBy: URIRef
    combine: URIRef
    checkId: URIRef
    standsIn: URIRef
    notCheckableBecause: URIRef
    contradicts: URIRef
    restsOn: URIRef
    lifecycle: URIRef
    lifecycleStatus: URIRef
    locator: URIRef
    wording: URIRef
    device: URIRef
    phase: URIRef
    batchRegime: URIRef
    inputRegime: URIRef
    modelFamily: URIRef
    apiTier: URIRef
    precision: URIRef
    scale: URIRef
    benchmark: URIRef
    parameters: URIRef
    rule: URIRef
    metric: URIRef
    better: URIRef
    subject: URIRef
    baseline: URIRef
    threshold: URIRef
    tolerance: URIRef
    quantifier: URIRef
    parameterName: URIRef
    parameterSchema: URIRef
    multiverse: URIRef
    tier: URIRef
    framework: URIRef
    module: URIRef
    role: URIRef
    bearsOn: URIRef
    evidence: URIRef
    measuredUnder: URIRef
    hardware: URIRef
    verdict: URIRef
    verdictQualifier: URIRef
    scope: URIRef
    status: URIRef
    rawRecord: URIRef
    codeHash: URIRef
    gitCommit: URIRef
    refiledFrom: URIRef
    budgetSeconds: URIRef
    robustness: URIRef
    outsideScope: URIRef
    factors: URIRef
    stated: URIRef
    gpuMatmulTflops: URIRef
    gpuNominalTflops: URIRef
    cell: URIRef
    ciLow: URIRef
    ciHigh: URIRef
    confidence: URIRef
    method: URIRef
    sampleSize: URIRef
    processes: URIRef
    subjectValue: URIRef
    baselineValue: URIRef
    subjectP90: URIRef
    baselineP90: URIRef
    batchSize: URIRef
    inputSize: URIRef
    deprecated: URIRef
    successor: URIRef
    cpuModel: URIRef
    cores: URIRef
    memoryGiB: URIRef
    gpuModel: URIRef
    gpuDriver: URIRef
    cudaVersion: URIRef
    operatingSystem: URIRef
    pythonVersion: URIRef
    torchVersion: URIRef
    tensorflowVersion: URIRef
    kerasVersion: URIRef
    jaxVersion: URIRef
    numpyVersion: URIRef
    timingThreads: URIRef
    vectorInstructionSet: URIRef
    # concept schemes
    categories: URIRef
    verdicts: URIRef
    devices: URIRef
    phases: URIRef
    quantifiers: URIRef
    roles: URIRef
    lifecycleStatuses: URIRef
    # concepts
    TrainingThroughput: URIRef
    InferenceLatency: URIRef
    Memory: URIRef
    Distributed: URIRef
    Hardware: URIRef
    Deployment: URIRef
    Interoperability: URIRef
    Ecosystem: URIRef
    Adoption: URIRef
    Usability: URIRef
    Holds: URIRef
    DoesNotHold: URIRef
    Inconclusive: URIRef
    NotCheckableHere: URIRef
    CPU: URIRef
    GPU: URIRef
    TPU: URIRef
    AnyDevice: URIRef
    Training: URIRef
    Inference: URIRef
    DeploymentPhase: URIRef
    UpTo: URIRef
    AtLeast: URIRef
    About: URIRef
    Exists: URIRef
    Survey: URIRef
    SecondaryArticle: URIRef
    PrimaryStudy: URIRef
    DataSet: URIRef
    Documentation: URIRef
    DeprecatedFeature: URIRef
    Superseded: URIRef
    LimitedMaintenance: URIRef


KIND_CLASSES = {
    "performance": FWC.PerformanceClaim,
    "capability": FWC.CapabilityClaim,
    "adoption": FWC.AdoptionClaim,
    "qualitative": FWC.QualitativeClaim,
}
