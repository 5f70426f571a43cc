"""Code systems, codes and profiles of the FHIR export (:mod:`opensirt.exports.fhir`).

References
----------
.. [FHIR] HL7 FHIR Release 4 (4.0.1), 2019, hl7.org/fhir/R4 (code system URIs, Bundle,
   Patient, Condition, Observation, Procedure, MedicationAdministration).
.. [mCODE] HL7 minimal Common Oncology Data Elements (mCODE) Implementation Guide, STU 4
   (4.0.0), 2024, hl7.org/fhir/us/mcode/STU4: profile canonical URLs, CancerDiseaseStatus
   (LOINC 97509-4, ConditionStatusTrendVS), ECOGPerformanceStatus (LOINC 89247-1),
   TumorMarkerTest.
.. [LOINC] Regenstrief Institute, LOINC 2.77, loinc.org (laboratory and survey codes below).
.. [SCT] SNOMED International, SNOMED CT International Edition (disorder, procedure and
   qualifier codes below).
.. [ICD10] WHO ICD-10 (C22.0 liver cell carcinoma, C22.1 intrahepatic bile duct carcinoma,
   C78.7 secondary malignant neoplasm of liver).
.. [DCM] DICOM PS3.16 Annex D, code 113507 "Administered activity".
.. [UCUM] Schadow G, McDonald CJ. The Unified Code for Units of Measure, ucum.org.
"""

from __future__ import annotations

from collections.abc import Mapping

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PSEUDONYM_SYSTEM = "urn:opensirt:pseudonym"

_MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
#: mCODE STU 4 profiles [mCODE]_ used by the export.
PROFILES: Mapping[str, str] = {
    "patient": _MCODE + "mcode-cancer-patient",
    "primary": _MCODE + "mcode-primary-cancer-condition",
    "secondary": _MCODE + "mcode-secondary-cancer-condition",
    "tumour_marker": _MCODE + "mcode-tumor-marker-test",
    "ecog": _MCODE + "mcode-ecog-performance-status",
    "disease_status": _MCODE + "mcode-cancer-disease-status",
    "medication": _MCODE + "mcode-cancer-related-medication-administration",
    "surgery": _MCODE + "mcode-cancer-related-surgical-procedure",
}

#: Diagnosis (registry code) -> (primary?, SNOMED CT disorder, ICD-10, display) [SCT]_ [ICD10]_.
DIAGNOSES: Mapping[str, tuple[bool, str, str, str]] = {
    "hcc": (True, "109841003", "C22.0", "Liver cell carcinoma"),
    "icc": (True, "312104005", "C22.1", "Cholangiocarcinoma of intrahepatic bile duct"),
    "crc": (False, "94381002", "C78.7", "Secondary malignant neoplasm of liver"),
    "net": (False, "94381002", "C78.7", "Secondary malignant neoplasm of liver"),
    "breast": (False, "94381002", "C78.7", "Secondary malignant neoplasm of liver"),
    "other": (False, "94381002", "C78.7", "Secondary malignant neoplasm of liver"),
}
#: Body site of every condition: SCT 10200004 Liver structure [SCT]_.
LIVER = ("10200004", "Liver structure")

#: Lab value (field name) -> (LOINC, display, UCUM unit) [LOINC]_ [UCUM]_.
LABS: Mapping[str, tuple[str, str, str]] = {
    "bilirubin_umol_l": ("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma", "umol/L"),
    "bilirubin_mg_dl": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL"),
    "albumin_g_l": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/L"),
    "albumin_g_dl": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL"),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}"),
    "creatinine_umol_l": ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "umol/L"),
    "creatinine_mg_dl": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
    "sodium_mmol_l": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L"),
}
#: Tumour markers (field name) -> (LOINC, display, UCUM unit): mCODE TumorMarkerTest.
TUMOUR_MARKERS: Mapping[str, tuple[str, str, str]] = {
    "afp_ng_ml": ("1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma", "ng/mL"),
    "cea_ng_ml": ("2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma", "ng/mL"),
}
#: ECOG performance status: LOINC 89247-1 [mCODE]_.
ECOG = ("89247-1", "ECOG Performance Status score")
#: Cancer disease status: LOINC 97509-4, values of mCODE ConditionStatusTrendVS [mCODE]_.
DISEASE_STATUS = ("97509-4", "Cancer disease progression")
#: Overall response (CR, PR, SD, PD, NE) -> SNOMED CT finding of ConditionStatusTrendVS.
RESPONSE_STATUS: Mapping[str, tuple[str, str]] = {
    "CR": ("281900007", "No abnormality detected"),
    "PR": ("268910001", "Patient's condition improved"),
    "SD": ("359746009", "Patient's condition stable"),
    "PD": ("271299001", "Patient's condition worsened"),
    "NE": ("709137006", "Patient condition undetermined"),
}
#: Evidence of a response assessment: SCT 363679005 Imaging [mCODE]_ (evidence type).
IMAGING_EVIDENCE = ("363679005", "Imaging")
#: The SIRT session: SCT 440252007 "Administration of radiopharmaceutical" [SCT]_.
SIRT_PROCEDURE = ("440252007", "Administration of radiopharmaceutical (procedure)")
#: The activity given: DICOM DCM 113507 "Administered activity" [DCM]_ in GBq [UCUM]_.
ADMINISTERED_ACTIVITY = ("113507", "Administered activity")
