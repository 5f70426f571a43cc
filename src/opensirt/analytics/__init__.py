"""OpenSIRT analytics: a centre's outcomes from its registry (response, survival,
dose-response, pooled evidence) and cohort re-dosimetry on Dask."""
