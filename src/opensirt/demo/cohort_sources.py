"""The published figures the synthetic cohort is drawn from, each with its source.

The cohort (:mod:`opensirt.demo.cohort`) is for demonstrations, tests and benchmarks: its
patients are plausible, not real, and nothing clinical may be concluded from them. Where a
figure is published it is cited; where the module had to choose (a share, a spread), the
comment says it is a modelling choice.

References
----------
.. [CIRT] Helmberger T, Golfieri R, Pech M et al. Clinical application of trans-arterial
   radioembolization in hepatic malignancies in Europe: first results from the prospective
   multicentre observational study CIRSE Registry for SIR-Spheres Therapy (CIRT). Cardiovasc
   Intervent Radiol 2021;44:21-35. doi:10.1007/s00270-020-02642-y (1027 patients; 68.2 %
   palliative intent; prior systemic therapy 53.1 %, prior locoregional therapy 38.3 %;
   median overall survival: HCC 16.5, ICC 14.6, colorectal 9.8, breast 10.6, neuroendocrine
   33.1, pancreatic 5.6, melanoma 14.6 months; 2.5 % grade 3-4 adverse events within 30 days).
.. [SARAH] Vilgrain V, Pereira H, Assenat E et al. Efficacy and safety of selective internal
   radiotherapy with yttrium-90 resin microspheres compared with sorafenib in locally
   advanced and inoperable hepatocellular carcinoma (SARAH). Lancet Oncol 2017;18:1624-1636.
   doi:10.1016/S1470-2045(17)30683-6 (SIRT arm: median overall survival 8.0 months,
   median progression-free survival 4.1 months).
.. [DOSISPHERE] Garin E, Tselikas L, Guiu B et al. Personalised versus standard dosimetry
   approach of selective internal radiation therapy in patients with locally advanced
   hepatocellular carcinoma (DOSISPHERE-01). Lancet Gastroenterol Hepatol 2021;6:17-29.
   doi:10.1016/S2468-1253(20)30290-9 (objective response, EASL, 71 % with a personalised
   tumour dose of at least 205 Gy versus 36 % with the standard 120 Gy to the perfused lobe).
.. [RIAZ] Riaz A, Awais R, Salem R. Side effects of yttrium-90 radioembolization. Front Oncol
   2014;4:198. doi:10.3389/fonc.2014.00198 (post-radioembolization syndrome, fatigue, nausea,
   abdominal pain, anorexia and fever, in 20-55 % of patients, mostly grade 1-2;
   radioembolization-induced liver disease, gastrointestinal ulcers and radiation pneumonitis
   rare).
"""

from __future__ import annotations

from opensirt.registry.vocabulary import Diagnosis

#: Share of each diagnosis in the cohort. A modelling choice in which, as in [CIRT]_, HCC is
#: the largest group followed by colorectal metastases and intrahepatic cholangiocarcinoma.
DIAGNOSIS_SHARES: dict[Diagnosis, float] = {
    Diagnosis.HCC: 0.45,
    Diagnosis.CRC: 0.20,
    Diagnosis.ICC: 0.12,
    Diagnosis.NET: 0.06,
    Diagnosis.BREAST: 0.05,
    Diagnosis.OTHER: 0.12,
}

#: Median overall survival after the first SIRT (months), by diagnosis [CIRT]_; ``other``
#: takes 10 months, between CIRT's pancreatic (5.6) and melanoma (14.6) cohorts (a choice).
MEDIAN_OS_MONTHS: dict[Diagnosis, float] = {
    Diagnosis.HCC: 16.5,
    Diagnosis.ICC: 14.6,
    Diagnosis.CRC: 9.8,
    Diagnosis.NET: 33.1,
    Diagnosis.BREAST: 10.6,
    Diagnosis.OTHER: 10.0,
}

#: Median overall survival (months) of HCC with macrovascular (portal vein) invasion, the
#: locally advanced disease of the SIRT arm of [SARAH]_.
MEDIAN_OS_HCC_VASCULAR_INVASION_MONTHS = 8.0

#: Median progression-free over median overall survival: 4.1 / 8.0 in the SIRT arm of
#: [SARAH]_, applied to every diagnosis (a choice).
PFS_TO_OS_RATIO = 4.1 / 8.0

#: Share of palliative intent among SIRT decisions [CIRT]_ (the rest: downstaging, bridging
#: and curative-intent segmentectomy, split by the module).
PALLIATIVE_SHARE = 0.682

#: Shares with prior systemic and with prior locoregional therapy before SIRT [CIRT]_.
PRIOR_SYSTEMIC_SHARE = 0.531
PRIOR_LOCOREGIONAL_SHARE = 0.383

#: Share of men by diagnosis (a choice after the usual epidemiology: HCC mostly men, breast
#: cancer women).
MALE_SHARE: dict[Diagnosis, float] = {
    Diagnosis.HCC: 0.80,
    Diagnosis.ICC: 0.55,
    Diagnosis.CRC: 0.62,
    Diagnosis.NET: 0.52,
    Diagnosis.BREAST: 0.01,
    Diagnosis.OTHER: 0.55,
}

#: Mean and standard deviation of the age at diagnosis (years), a choice (SIRT series report
#: median ages in the mid-sixties).
AGE_AT_DIAGNOSIS_YEARS: dict[Diagnosis, tuple[float, float]] = {
    Diagnosis.HCC: (67.0, 9.0),
    Diagnosis.ICC: (65.0, 10.0),
    Diagnosis.CRC: (63.0, 10.0),
    Diagnosis.NET: (60.0, 11.0),
    Diagnosis.BREAST: (56.0, 11.0),
    Diagnosis.OTHER: (62.0, 11.0),
}

#: Median months from the diagnosis to the first SIRT (a choice: metastases reach SIRT after
#: lines of systemic therapy).
MONTHS_TO_SIRT: dict[Diagnosis, float] = {
    Diagnosis.HCC: 3.0,
    Diagnosis.ICC: 4.0,
    Diagnosis.CRC: 16.0,
    Diagnosis.NET: 20.0,
    Diagnosis.BREAST: 20.0,
    Diagnosis.OTHER: 8.0,
}

#: Objective response probability at the standard 120 Gy and at >= 205 Gy tumour dose
#: [DOSISPHERE]_; the cohort interpolates linearly in the tumour dose between them.
RESPONSE_AT_120_GY = 0.36
RESPONSE_AT_205_GY = 0.71

#: Adverse events after SIRT: (CTCAE v5.0 term, probability per session, probabilities of
#: grades 1, 2, 3, 4). Post-radioembolization syndrome terms within the 20-55 % of [RIAZ]_,
#: mostly grade 1-2; grade >= 3 rare so that about 2.5 % of sessions have one, as [CIRT]_.
ADVERSE_EVENTS: tuple[tuple[str, float, tuple[float, float, float, float]], ...] = (
    ("Fatigue", 0.40, (0.75, 0.23, 0.02, 0.0)),
    ("Abdominal pain", 0.25, (0.72, 0.25, 0.03, 0.0)),
    ("Nausea", 0.20, (0.80, 0.19, 0.01, 0.0)),
    ("Anorexia", 0.12, (0.80, 0.19, 0.01, 0.0)),
    ("Fever", 0.08, (0.85, 0.15, 0.0, 0.0)),
    ("Vomiting", 0.06, (0.80, 0.18, 0.02, 0.0)),
    ("Blood bilirubin increased", 0.05, (0.50, 0.30, 0.17, 0.03)),
    ("Gastric ulcer", 0.01, (0.20, 0.40, 0.40, 0.0)),
    ("Pneumonitis", 0.002, (0.30, 0.40, 0.25, 0.05)),
)

#: Mean and spread of the lung shunt fraction: log-normal with a median of 6 % and a
#: geometric standard deviation of 1.9, clipped to [0.5 %, 30 %] (a choice that puts a few
#: per cent of patients above the 20 % resin limit).
LUNG_SHUNT_MEDIAN = 0.06
LUNG_SHUNT_GSD = 1.9
LUNG_SHUNT_RANGE = (0.005, 0.30)

#: Median tumour-to-normal ratio on the MAA SPECT and its geometric standard deviation
#: (a choice: HCC is hypervascular, metastases less so).
TN_MEDIAN: dict[Diagnosis, float] = {
    Diagnosis.HCC: 3.0,
    Diagnosis.ICC: 2.0,
    Diagnosis.CRC: 1.8,
    Diagnosis.NET: 3.5,
    Diagnosis.BREAST: 1.8,
    Diagnosis.OTHER: 2.0,
}
TN_GSD = 1.6

#: The case file's clinical diagnosis of each registry diagnosis.
CLINICAL_DIAGNOSIS = {
    Diagnosis.HCC: "hcc",
    Diagnosis.ICC: "cholangiocarcinoma",
    Diagnosis.CRC: "metastases",
    Diagnosis.NET: "metastases",
    Diagnosis.BREAST: "metastases",
    Diagnosis.OTHER: "other",
}
#: Systemic regimens by line (first, second, third), a choice after common practice.
SYSTEMIC = {
    Diagnosis.HCC: ("atezolizumab-bevacizumab", "sorafenib", "lenvatinib"),
    Diagnosis.ICC: ("gemcitabine-cisplatin", "FOLFOX", "capecitabine"),
    Diagnosis.CRC: ("FOLFOX-bevacizumab", "FOLFIRI-cetuximab", "trifluridine-tipiracil"),
    Diagnosis.NET: ("octreotide LAR", "everolimus", "capecitabine-temozolomide"),
    Diagnosis.BREAST: ("paclitaxel", "capecitabine", "eribulin"),
    Diagnosis.OTHER: ("carboplatin-paclitaxel", "gemcitabine", "FOLFIRINOX"),
}
#: The disciplines at a multidisciplinary board.
ROLES = (
    "hepatologist",
    "interventional radiologist",
    "medical oncologist",
    "surgeon",
    "nuclear medicine physician",
    "radiologist",
)
#: Synthetic user names of the plan signers.
PHYSICISTS = ("phys.adams", "phys.baker", "phys.chen")
PHYSICIANS = ("md.dubois", "md.evans", "md.fischer", "md.garcia")
