"""Images: the Volume type, readers, segmentations, quantification and the synthetic patient."""

from opensirt.imaging.volume import Volume

__all__ = ["Volume"]
