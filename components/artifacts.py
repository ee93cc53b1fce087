"""Custom TFX artifact types."""

from tfx.types.artifact import Artifact


class MaskLibraryArtifact(Artifact):
    """A library of gap shapes: `masks.npz` (a components.masks.MaskLibrary) and a preview."""

    TYPE_NAME = "s3inpaint.MaskLibrary"
