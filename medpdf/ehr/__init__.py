"""The clinic's record system (EHR): FHIR R4 medication lists in, Infobutton answers out.

- :mod:`medpdf.ehr.fhir` reads a FHIR Bundle, a single resource or an NDJSON
  file into a :class:`~medpdf.ehr.fhir.MedicationList` (the active medicines,
  with their times, doses and notes), refusing oversized or malformed input in
  one line;
- :mod:`medpdf.ehr.medications` makes each of its resources a
  :class:`~medpdf.ehr.medications.Medication`;
- :mod:`medpdf.ehr.timing` turns a FHIR ``Dosage`` into the four times of the
  Universal Medication Schedule the pack prints;
- :mod:`medpdf.ehr.matching` finds each medicine's monograph, by code or by
  name, and never guesses a weak or ambiguous match;
- :mod:`medpdf.ehr.infobutton` reads an HL7 Infobutton (URL-based) request and
  writes its JSON and Atom answers.

Nothing here renders or stores anything: the pack and the station do that.
:mod:`medpdf.ehr.packing` turns a list into a pack request (:mod:`medpdf.products.pack`).
"""

__all__ = ["fhir", "infobutton", "matching", "medications", "packing", "timing"]
