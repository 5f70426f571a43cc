"""The closed value sets of the pathway record.

Every coded field of the registry takes one of these values; the database stores the value
(a short lower-case string) and checks it with a constraint, so a row written by another tool
cannot carry a code that OpenSIRT does not know.

References
----------
.. [CTCAE5] U.S. Department of Health and Human Services, National Cancer Institute. Common
   Terminology Criteria for Adverse Events (CTCAE) version 5.0, 27 November 2017 (grades 1-5;
   attribution categories of the NCI adverse-event reporting guidelines).
.. [EORTC] Aaronson NK et al. The EORTC QLQ-C30. J Natl Cancer Inst 1993;85:365-376.
   doi:10.1093/jnci/85.5.365; Blazeby JM et al. EORTC QLQ-HCC18. Eur J Cancer
   2004;40:2439-2444. doi:10.1016/j.ejca.2004.06.033 (scale scores 0-100).
.. [FACTHEP] Heffernan N et al. Measuring health-related quality of life in patients with
   hepatobiliary cancers: the FACT-Hep questionnaire. J Clin Oncol 2002;20:2229-2239.
   doi:10.1200/JCO.2002.07.093 (total score 0-180).
"""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    """Administrative sex as recorded by the hospital."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Diagnosis(StrEnum):
    """The primary liver malignancy; the codes of the cohort table (``cohort.csv``)."""

    HCC = "hcc"  # hepatocellular carcinoma
    ICC = "icc"  # intrahepatic cholangiocarcinoma
    CRC = "crc"  # colorectal liver metastases
    NET = "net"  # neuroendocrine liver metastases
    BREAST = "breast"  # breast cancer liver metastases
    OTHER = "other"  # other metastases or primaries


class Therapy(StrEnum):
    """The options a multidisciplinary board weighs, and the treatments a patient receives."""

    SIRT = "sirt"  # selective internal radiation therapy (radioembolization)
    TACE = "tace"  # transarterial chemoembolization (conventional or drug-eluting beads)
    TAE = "tae"  # bland transarterial embolization
    HAIC = "haic"  # hepatic arterial infusion chemotherapy
    ABLATION = "ablation"  # radiofrequency / microwave / cryo ablation
    RESECTION = "resection"
    TRANSPLANT = "transplant"
    EXTERNAL_BEAM = "external-beam"  # external-beam radiotherapy, including SBRT
    SYSTEMIC = "systemic"  # systemic therapy (chemotherapy, targeted, immunotherapy)
    BEST_SUPPORTIVE_CARE = "best-supportive-care"


class Intent(StrEnum):
    """Why a treatment is given."""

    PALLIATIVE = "palliative"
    DOWNSTAGING = "downstaging"
    BRIDGE_TO_RESECTION = "bridge-to-resection"
    BRIDGE_TO_TRANSPLANT = "bridge-to-transplant"
    CURATIVE = "curative"  # e.g. radiation segmentectomy with curative intent


class StudyRole(StrEnum):
    """What an imaging study is for in the pathway."""

    PLANNING_CT = "planning-ct"
    MAA_SPECT = "maa-spect"
    POST_PET = "post-pet"
    POST_SPECT = "post-spect"
    FOLLOW_UP_CT = "follow-up-ct"
    FOLLOW_UP_MR = "follow-up-mr"
    OTHER = "other"


class PlanState(StrEnum):
    """The life of a plan version: draft, approved by two people, superseded by a newer one."""

    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class SignatureRole(StrEnum):
    """Who signs a plan: a physicist and a physician, two different people."""

    PHYSICIST = "physicist"
    PHYSICIAN = "physician"


class Attribution(StrEnum):
    """How likely an adverse event is caused by the treatment [CTCAE5]_."""

    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"


class QolInstrument(StrEnum):
    """Quality-of-life questionnaires whose scored totals the registry keeps."""

    EORTC_QLQ_C30 = "eortc-qlq-c30"  # scale scores 0-100 [EORTC]_
    EORTC_QLQ_HCC18 = "eortc-qlq-hcc18"  # scale scores 0-100 [EORTC]_
    FACT_HEP = "fact-hep"  # total 0-180 [FACTHEP]_


#: The highest score of each instrument's scales (the lowest is 0).
QOL_MAX_SCORE: dict[QolInstrument, float] = {
    QolInstrument.EORTC_QLQ_C30: 100.0,
    QolInstrument.EORTC_QLQ_HCC18: 100.0,
    QolInstrument.FACT_HEP: 180.0,
}


class ResponseCriteria(StrEnum):
    """Tumour response criteria; the codes of the cohort table."""

    RECIST_1_1 = "recist1.1"
    MRECIST = "mrecist"
    EASL = "easl"


class OutcomeKind(StrEnum):
    """Events after treatment that survival analysis reads."""

    PROGRESSION = "progression"
    DEATH = "death"
    LAST_CONTACT = "last-contact"


class ProgressionSite(StrEnum):
    """Where progression was seen, relative to the treated territory."""

    IN_FIELD = "in-field"
    OUT_OF_FIELD = "out-of-field"  # in the liver, outside the treated territory
    EXTRAHEPATIC = "extrahepatic"


class UserRole(StrEnum):
    """What a user of the registry and its service may do.

    An admin manages users; a physicist and a physician plan and sign (a plan is approved by
    one of each, two different users); a nurse records sessions, monitoring and adverse events;
    a viewer only reads.
    """

    ADMIN = "admin"
    PHYSICIST = "physicist"
    PHYSICIAN = "physician"
    NURSE = "nurse"
    VIEWER = "viewer"
