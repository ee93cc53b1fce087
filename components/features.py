"""Names that cross components and layers: tf.Example features, the Transform's outputs, files
and properties of artifacts, and the serving signature.

Plain strings, importing nothing, so that every layer (the batch job's launcher, which never
imports TensorFlow, included) spells each name from here.
"""

# tf.Example features of patches (ExampleGen, MaskGen, Transform, the evaluator).
REFLECTANCE = "reflectance"  # float list, patch (size, size, bands) row-major; 0 where invalid
VALID = "valid"  # int64 list, (size, size): 1 where the pixel is valid water
PRODUCT = "product"  # bytes: the product (scene) name; train/eval split key
TIME = "time"  # bytes: ISO 8601 start time of the scene
ROW = "row"  # int64: patch offset in the scene
COLUMN = "column"  # int64
GAP = "gap"  # int64 list, (size, size): 1 where the fixed mask makes a gap (added by MaskGen)
GAP_COVERAGE = "gap_coverage"  # float: share of the patch that is gap
# bytes: where the fixed mask came from: the "product|row|column" of another scene's real cloud
# (the transplant protocol), or "synthetic:<kind>" when no other scene's cloud fits
GAP_SOURCE = "gap_source"
# With a temporal window k (`IngestConfig.temporal_window`), the same window of the k previous
# and k next scenes of the patch's series, oldest first (`components.example_gen.temporal`):
NEIGHBOURS = "neighbours"  # float list, (2k, size, size, bands) row-major; 0 where not valid
NEIGHBOUR_VALID = "neighbour_valid"  # int64 list, (2k, size, size): 1 where valid
NEIGHBOUR_OFFSET = "neighbour_offset"  # float list, (2k,): time minus the patch's, in days

# The Transform's outputs beside the normalised features: the per-band statistics, (bands,),
# so the model can invert the normalisation.
BAND_MEAN = "band_mean"
BAND_STD = "band_std"

# Examples artifacts (OlciExampleGen's, and MaskGen's, which copies both properties).
# custom property: the IngestConfig JSON (and the key the Trainer hands it to its run_fn by)
INGEST_PROPERTY = "s3inpaint_ingest"
SPANS_PROPERTY = "s3inpaint_spans"  # custom property: JSON list of the spans read
CLOUD_SHAPES = "cloud_shapes"  # OlciExampleGen's folder of <product>.npz harvested shapes

# MaskGen's mask library: the channel (MaskGen's output, the Trainer's input; the key its URI
# is handed to the run_fn by), the artifact's file, a components.masks.MaskLibrary, and its
# summary (JSON: the coverage range and kinds of MaskGen's masks, which the Trainer draws too).
MASK_LIBRARY = "mask_library"
MASK_LIBRARY_FILE = "masks.npz"
MASK_LIBRARY_SUMMARY = "summary.json"

# An exported model (the Trainer's `Format-Serving` folder, a pushed version).
MODEL_DESCRIPTION = "s3inpaint_model.json"  # what the model takes and how it was trained
WEIGHTS_DIR = "weights"  # Keras weights, for warm starts
GENERATOR_WEIGHTS, DISCRIMINATOR_WEIGHTS = "generator.weights.h5", "discriminator.weights.h5"

# The serving signature: its inputs and outputs (see model.export).
SIGNATURE = "serving_default"
INPUT_REFLECTANCE, INPUT_GAP = "reflectance", "gap"
INPUT_NEIGHBOURS, INPUT_NEIGHBOUR_GAP = "neighbours", "neighbour_gap"
INPUT_NEIGHBOUR_OFFSET = "neighbour_offset"
OUTPUT_FILLED, OUTPUT_SIGMA = "filled", "sigma"

# The SsimEvaluator's evaluation artifact.
METRICS_FILE, REPORT_FILE = "metrics.json", "report.html"
