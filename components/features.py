"""Names of the tf.Example features that cross components (ExampleGen, MaskGen, Transform)."""

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
