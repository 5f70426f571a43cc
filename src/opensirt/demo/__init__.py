"""The synthetic patient and cohort: phantom, DICOM, case files and a registry cohort.

Nothing of the library depends on this package; it exists so that ``opensirt demo``, the
tests and the benchmarks have a patient whose truth is known. Its modules:

``phantom``
    The anatomy and the MAA SPECT / Y-90 PET truth
    (:func:`~opensirt.demo.phantom.make_phantom`).
``anatomy``
    Labels, CT numbers and tumour placement of the phantom.
``dicom``
    :func:`~opensirt.demo.dicom.write_phantom_dicom`: the phantom as a DICOM study.
``case``
    The demo case file written next to the DICOM.
``moved`` / ``posttreatment`` / ``scenarios``
    Post-treatment studies in another frame, bremsstrahlung and Ho-166 SPECT, and the
    ``opensirt demo --posttreatment`` scenarios.
``cohort`` (with ``cohort_plan``, ``cohort_followup``, ``cohort_sources``, ``cohort_writer``)
    :func:`~opensirt.demo.cohort.synthetic_cohort`: N reproducible SIRT pathways as
    registry records, and their import (``opensirt registry synth``).
"""
