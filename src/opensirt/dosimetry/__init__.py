"""OpenSIRT dosimetry."""
