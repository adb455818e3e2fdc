#!/usr/bin/env python3
"""Generates samples/, tests/fixtures/bad/ and tests/fixtures/review/ (a note without a patient, a
faxed referral) from synthetic clinical text.

Every person, record number and address below is invented; nothing comes from a real patient.
Each sample is written the way such documents reach a hospital's intake: a scanned discharge
summary (image-only PDF), a lab report with a text layer and a table, a photographed medication
list (rotated, noisy PNG), an intake form (JPEG), a multi-page G4 TIFF referral letter, and a PDF
mixing a text-layer page with a scanned one, in samples/documents/. Beside them,
samples/expected/<name>.json lists what the tests require paperchart to find in each.

    .venv/bin/python scripts/data/make_samples.py      (needs pillow and reportlab; see Makefile)
"""
import io
import json
import os
import random
import zlib
import struct

from PIL import Image, ImageDraw, ImageFilter, ImageFont
import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas
from reportlab.platypus import Table, TableStyle
from reportlab import rl_config

rl_config.invariant = 1  # reproducible PDFs: no creation dates or random ids

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "samples", "documents")
EXPECTED = os.path.join(ROOT, "samples", "expected")
BAD = os.path.join(ROOT, "tests", "fixtures", "bad")
FONTS = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
DPI = 300
PAGE = (int(8.5 * DPI), 11 * DPI)

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
LNC = "http://loinc.org"


def font(size, bold=False):
    return ImageFont.truetype(os.path.join(FONTS, "VeraBd.ttf" if bold else "Vera.ttf"), size)


def render_page(lines, seed, body=40):
    """A page of text as a 300 dpi grayscale image. A line starting with '#' is a heading."""
    img = Image.new("L", PAGE, 255)
    d = ImageDraw.Draw(img)
    y = 180
    for line in lines:
        if line.startswith("#"):
            f = font(int(body * 1.35), bold=True)
            d.text((190, y), line[1:].strip(), font=f, fill=0)
            y += int(body * 2.1)
        elif line == "":
            y += int(body * 0.9)
        else:
            d.text((190, y), line, font=font(body), fill=20)
            y += int(body * 1.55)
    return img


def scanned(img, seed, angle=0.35, noise=10, blur=0.5):
    """Makes a clean page look scanned: a slight skew, blur and sensor noise."""
    rnd = random.Random(seed)
    img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    px = img.load()
    w, h = img.size
    for _ in range(w * h // 40):
        x, y = rnd.randrange(w), rnd.randrange(h)
        px[x, y] = max(0, min(255, px[x, y] + rnd.randint(-noise * 4, noise * 4)))
    return img


def photographed(img, seed):
    """A phone photo of a page: rotated, uneven light, noise, lower resolution."""
    rnd = random.Random(seed)
    img = img.rotate(2.2, resample=Image.BICUBIC, expand=True, fillcolor=235)
    w, h = img.size
    shade = Image.linear_gradient("L").resize((w, h)).point(lambda v: 255 - v // 6)
    img = Image.composite(img, shade, img.point(lambda v: 255 if v < 128 else 0))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    px = img.load()
    for _ in range(w * h // 25):
        x, y = rnd.randrange(w), rnd.randrange(h)
        px[x, y] = max(0, min(255, px[x, y] + rnd.randint(-30, 30)))
    return img.resize((w * 2 // 3, h * 2 // 3), Image.LANCZOS)


def write_expect(name, expect):
    with open(os.path.join(EXPECTED, name + ".json"), "w") as f:
        json.dump(expect, f, indent=2)
        f.write("\n")


# --------------------------------------------------------------------------------------------
# 1. Discharge summary: three scanned pages, image only.

DISCHARGE = [
    [
        "#RIVERBEND GENERAL HOSPITAL",
        "#DISCHARGE SUMMARY",
        "",
        "Patient Name: Okafor, Marguerite L.      MRN: 40021877",
        "DOB: 04/12/1948      Sex: Female",
        "Admission Date: 02/26/2024      Discharge Date: 03/01/2024",
        "Attending: Dr. Samuel Whitfield",
        "",
        "Chief Complaint: Shortness of breath and leg swelling.",
        "",
        "History of Present Illness:",
        "Ms. Okafor is a 75-year-old woman with a history of congestive heart",
        "failure, hypertension and type 2 diabetes mellitus who presented with",
        "three days of worsening shortness of breath and bilateral leg swelling.",
        "She denies chest pain and fever. No palpitations.",
        "",
        "Past Medical History: Congestive heart failure, Hypertension,",
        "Type 2 diabetes mellitus, Hyperlipidemia, Osteoarthritis.",
        "",
        "Past Surgical History: Cholecystectomy in 2009.",
        "Status post total knee replacement.",
    ],
    [
        "Allergies: Penicillin (hives); Sulfa drugs (rash)",
        "",
        "Vital Signs on Admission:",
        "BP 152/88 mmHg   HR 96 bpm   RR 22   Temp 98.4 F   SpO2 91% on RA",
        "Weight 84.2 kg",
        "",
        "Laboratory Results:",
        "BNP 1250 pg/mL (H)",
        "Creatinine 1.4 mg/dL (H)",
        "Potassium 3.6 mmol/L",
        "Hemoglobin A1c 7.8 % (H)",
        "",
        "Hospital Course:",
        "She was treated with intravenous diuresis with good response. Chest",
        "x-ray showed pulmonary edema. Echocardiogram showed a reduced ejection",
        "fraction. Pneumonia was ruled out. Her weight decreased by 3 kg.",
    ],
    [
        "Discharge Diagnoses:",
        "1. Acute on chronic systolic heart failure (I50.23)",
        "2. Essential hypertension (I10)",
        "3. Type 2 diabetes mellitus without complications (E11.9)",
        "",
        "Discharge Medications:",
        "- Furosemide 40 mg PO daily",
        "- Lisinopril 10 mg PO daily",
        "- Metoprolol tartrate 25 mg PO BID",
        "- Atorvastatin 40 mg PO nightly",
        "- Metformin 500 mg PO BID with meals",
        "",
        "Family History: Mother had breast cancer.",
        "Father with coronary artery disease.",
        "",
        "Discharge Instructions:",
        "Weigh yourself daily. Return to the emergency department if chest",
        "pain or shortness of breath gets worse.",
        "Follow up with Dr. Whitfield in 1 week.",
    ],
]


def discharge_summary():
    pages = [scanned(render_page(p, i), 100 + i) for i, p in enumerate(DISCHARGE)]
    path = os.path.join(SAMPLES, "discharge-summary-scanned.pdf")
    pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:], quality=80)
    write_expect("discharge-summary-scanned", {
        "pages": 3,
        "read_by": {"tesseract": 3},
        "patient": {"family": "Okafor", "given": ["Marguerite", "L"], "birthDate": "1948-04-12",
                    "gender": "female", "mrn": "40021877"},
        "doc_type": "18842-5",
        "date": "2024-03-01",
        "conditions": [
            {"system": ICD, "code": "I50.23", "status": "confirmed"},
            {"system": ICD, "code": "I10", "status": "confirmed"},
            {"system": ICD, "code": "E11.9", "status": "confirmed"},
            {"system": SCT, "code": "55822004", "status": "confirmed"},
            {"system": SCT, "code": "29857009", "status": "refuted"},
            {"system": SCT, "code": "233604007", "status": "refuted"},
        ],
        "medications": [
            {"system": RX, "code": "313988", "frequency": "daily"},
            {"system": RX, "code": "314076", "frequency": "daily", "route": "oral"},
            {"system": RX, "code": "866924", "frequency": "BID"},
            {"system": RX, "code": "617311", "frequency": "nightly"},
            {"text": "Metformin", "frequency": "BID"},
        ],
        "observations": [
            {"code": "85354-9", "components": [152, 88]},
            {"code": "8867-4", "value": 96, "unit": "/min"},
            {"code": "2708-6", "value": 91, "unit": "%"},
            {"code": "29463-7", "value": 84.2, "unit": "kg"},
            {"code": "2160-0", "value": 1.4, "unit": "mg/dL", "interpretation": "H"},
            {"code": "4548-4", "value": 7.8, "unit": "%"},
        ],
        "allergies": [{"system": SCT, "code": "373270004", "reaction": "hives"}],
        "procedures": [{"system": SCT, "code": "38102005"}, {"system": SCT, "code": "609588000"}],
        "family": [{"relationship": "MTH", "system": SCT, "code": "254837009"},
                   {"relationship": "FTH", "system": SCT, "code": "53741008"}],
    })


# --------------------------------------------------------------------------------------------
# 2. Lab report: a text-layer PDF with a results table.

LAB_ROWS = [
    ["Test", "Result", "Units", "Reference Range", "Flag"],
    ["Glucose", "142", "mg/dL", "70-99", "H"],
    ["Hemoglobin A1c", "7.1", "%", "4.0-5.6", "H"],
    ["Creatinine", "0.9", "mg/dL", "0.7-1.3", ""],
    ["Sodium", "139", "mmol/L", "136-145", ""],
    ["Potassium", "4.2", "mmol/L", "3.5-5.1", ""],
    ["LDL Cholesterol", "162", "mg/dL", "0-99", "H"],
    ["HDL Cholesterol", "38", "mg/dL", "40-60", "L"],
    ["Triglycerides", "210", "mg/dL", "0-149", "H"],
    ["TSH", "2.1", "mIU/L", "0.4-4.0", ""],
    ["WBC", "7.4", "K/uL", "4.0-11.0", ""],
    ["Hemoglobin", "14.6", "g/dL", "13.5-17.5", ""],
    ["Platelets", "245", "K/uL", "150-400", ""],
]


def lab_report():
    path = os.path.join(SAMPLES, "lab-report.pdf")
    c = canvas.Canvas(path, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, 720, "NORTHSHORE CLINICAL LABORATORIES")
    c.setFont("Helvetica-Bold", 13)
    c.drawString(72, 698, "LABORATORY REPORT")
    c.setFont("Helvetica", 10.5)
    y = 670
    for line in ["Patient: Vasquez, Daniel R.          MRN: 50118342",
                 "DOB: 09/23/1971          Sex: M",
                 "Collected: 03/04/2024 07:45          Reported: 03/04/2024",
                 "Ordering Physician: Dr. Helen Marsh"]:
        c.drawString(72, y, line)
        y -= 16
    t = Table(LAB_ROWS, colWidths=[1.9 * inch, 0.8 * inch, 0.9 * inch, 1.4 * inch, 0.5 * inch])
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 10),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 10),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
    ]))
    w, h = t.wrapOn(c, 500, 400)
    t.drawOn(c, 72, y - 14 - h)
    c.setFont("Helvetica", 10.5)
    c.drawString(72, y - 40 - h, "Comment: Results consistent with type 2 diabetes mellitus and hyperlipidemia.")
    c.showPage()
    c.save()
    write_expect("lab-report", {
        "pages": 1,
        "read_by": {"text_layer": 1},
        "patient": {"family": "Vasquez", "given": ["Daniel", "R"], "birthDate": "1971-09-23", "gender": "male",
                    "mrn": "50118342"},
        "doc_type": "11502-2",
        "date": "2024-03-04",
        "observations": [
            {"code": "2345-7", "value": 142, "unit": "mg/dL", "interpretation": "H", "range": "70-99"},
            {"code": "4548-4", "value": 7.1, "unit": "%", "interpretation": "H", "range": "4.0-5.6"},
            {"code": "2160-0", "value": 0.9, "unit": "mg/dL"},
            {"code": "2951-2", "value": 139, "unit": "mmol/L"},
            {"code": "2823-3", "value": 4.2, "unit": "mmol/L"},
            {"code": "18262-6", "value": 162, "unit": "mg/dL", "interpretation": "H"},
            {"code": "2085-9", "value": 38, "unit": "mg/dL", "interpretation": "L"},
            {"code": "2571-8", "value": 210, "unit": "mg/dL"},
            {"code": "3016-3", "value": 2.1, "unit": "m[IU]/L"},
            {"code": "6690-2", "value": 7.4, "unit": "10*3/uL"},
            {"code": "718-7", "value": 14.6, "unit": "g/dL"},
            {"code": "777-3", "value": 245, "unit": "10*3/uL"},
        ],
        "conditions": [{"system": SCT, "code": "44054006", "status": "confirmed"},
                       {"system": SCT, "code": "55822004", "status": "confirmed"}],
    })


# --------------------------------------------------------------------------------------------
# 3. Medication list: photographed, slightly rotated, with noise (PNG).

MEDLIST = [
    "#MEDICATION LIST",
    "",
    "Patient: Lindqvist, Harold B.",
    "DOB: 11/02/1955        MRN: 30077215        Sex: Male",
    "Date: 02/20/2024",
    "",
    "Current Medications:",
    "1. Amlodipine 2.5 mg tablet - take 1 tablet by mouth daily",
    "2. Simvastatin 20 mg tablet - 1 tablet by mouth at bedtime",
    "3. Aspirin 81 mg - 1 tablet by mouth daily",
    "4. Albuterol inhaler - 2 puffs every 4 hours as needed for wheezing",
    "5. Omeprazole 20 mg capsule - 1 capsule by mouth every morning",
    "6. Clopidogrel 75 mg tablet - 1 tablet by mouth daily",
    "",
    "Allergies: Codeine (nausea), Latex",
    "",
    "Diagnoses: Coronary artery disease, Asthma, GERD",
]


def medication_list():
    img = photographed(render_page(MEDLIST, 3, body=44), 7)
    img.save(os.path.join(SAMPLES, "medication-list-photo.png"), optimize=True)
    write_expect("medication-list-photo", {
        "pages": 1,
        "read_by": {"tesseract": 1},
        "patient": {"family": "Lindqvist", "given": ["Harold", "B"], "birthDate": "1955-11-02", "gender": "male",
                    "mrn": "30077215"},
        "doc_type": "10160-0",
        "medications": [
            {"system": RX, "code": "308136", "frequency": "daily", "route": "oral"},
            {"system": RX, "code": "312961", "frequency": "nightly"},
            {"system": RX, "code": "243670", "frequency": "daily"},
            {"text": "Albuterol", "frequency": "q4h", "prn": True},
            {"system": RX, "code": "198051", "frequency": "every morning"},
            {"system": RX, "code": "309362", "frequency": "daily"},
        ],
        "allergies": [{"text": "Codeine", "reaction": "nausea"}, {"system": SCT, "code": "111088007"}],
        "conditions": [{"system": SCT, "code": "53741008", "status": "confirmed"},
                       {"system": SCT, "code": "195967001", "status": "confirmed"},
                       {"system": SCT, "code": "235595009", "status": "confirmed"}],
    })


# --------------------------------------------------------------------------------------------
# 4. Intake form: a filled-in form saved as JPEG. No record number: name and birth date identify.

INTAKE = [
    "#NEW PATIENT INTAKE FORM",
    "",
    "Name: Priya N. Raman",
    "Date of Birth: 06/30/1986        Sex: Female",
    "Address: 48 Willow Creek Road, Ashford, CT 06278",
    "Phone: (860) 555-0193",
    "Email: priya.raman@example.com",
    "Date: 03/05/2024",
    "",
    "Reason for Visit: Migraine headaches",
    "Current Medications: Sumatriptan 50 mg as needed; Sertraline 50 mg daily",
    "Allergies: Peanuts",
    "Medical History: Migraine, Anxiety, Asthma",
    "Surgical History: Appendectomy in 2010",
    "Family History: Father - type 2 diabetes; Mother - hypertension",
    "Social History: Never smoker. Drinks alcohol occasionally.",
]


def intake_form():
    img = render_page(INTAKE, 4, body=42)
    d = ImageDraw.Draw(img)
    d.rectangle((150, 140, PAGE[0] - 150, 1600), outline=90, width=4)
    img = scanned(img, 11, angle=-0.3, noise=6, blur=0.4)
    img.save(os.path.join(SAMPLES, "intake-form.jpg"), quality=85, dpi=(DPI, DPI))
    write_expect("intake-form", {
        "pages": 1,
        "read_by": {"tesseract": 1},
        "patient": {"family": "Raman", "given": ["Priya", "N"], "birthDate": "1986-06-30", "gender": "female",
                    "address": {"city": "Ashford", "state": "CT", "postalCode": "06278"},
                    "phone": "(860) 555-0193", "email": "priya.raman@example.com"},
        "doc_type": "34109-9",
        "date": "2024-03-05",
        "conditions": [{"system": SCT, "code": "37796009", "status": "confirmed"},
                       {"system": SCT, "code": "197480006", "status": "confirmed"},
                       {"system": SCT, "code": "195967001", "status": "confirmed"}],
        "medications": [{"text": "Sumatriptan", "prn": True}, {"text": "Sertraline", "frequency": "daily"}],
        "allergies": [{"system": SCT, "code": "762952008"}],
        "procedures": [{"system": SCT, "code": "80146002"}],
        "family": [{"relationship": "FTH", "system": SCT, "code": "44054006"},
                   {"relationship": "MTH", "system": SCT, "code": "38341003"}],
    })


# --------------------------------------------------------------------------------------------
# 5. Referral letter: two pages, bilevel, CCITT Group 4 TIFF. Same patient as the discharge
# summary: both documents must file under one Patient.

REFERRAL = [
    [
        "#Lakeside Family Medicine",
        "1200 Harbor Avenue, Riverbend, OR 97401",
        "Tel: (541) 555-0110",
        "",
        "#Referral Letter",
        "Date: 03/08/2024",
        "RE: Marguerite Okafor     DOB: 04/12/1948     MRN: 40021877",
        "",
        "Dear Dr. Chen,",
        "",
        "Thank you for seeing Ms. Okafor, a 75-year-old woman with congestive",
        "heart failure, for cardiology follow-up after her recent admission.",
        "",
        "She also has chronic kidney disease, atrial fibrillation on apixaban,",
        "hypertension and type 2 diabetes mellitus. She denies syncope.",
        "Her last echocardiogram showed an ejection fraction of 30%.",
    ],
    [
        "Current medications include furosemide 40 mg daily, lisinopril",
        "10 mg daily, metoprolol tartrate 25 mg twice daily and apixaban",
        "5 mg twice daily.",
        "",
        "Recent vitals: BP 138/84, HR 78, weight 81.0 kg.",
        "Recent labs: creatinine 1.3 mg/dL, potassium 4.4 mmol/L.",
        "",
        "Please evaluate for cardiac resynchronization therapy.",
        "",
        "Sincerely,",
        "Dr. Angela Ruiz, MD",
    ],
]


def referral_letter():
    pages = [scanned(render_page(p, 20 + i), 200 + i, angle=0.2, noise=4).point(lambda v: 255 if v > 140 else 0).convert("1")
             for i, p in enumerate(REFERRAL)]
    path = os.path.join(SAMPLES, "referral-letter.tif")
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="group4", dpi=(DPI, DPI))
    write_expect("referral-letter", {
        "pages": 2,
        "read_by": {"tesseract": 2},
        "patient": {"family": "Okafor", "given": ["Marguerite"], "birthDate": "1948-04-12", "mrn": "40021877"},
        "same_patient_as": "discharge-summary-scanned",
        "doc_type": "57133-1",
        "date": "2024-03-08",
        "conditions": [{"system": SCT, "code": "42343007", "status": "confirmed"},
                       {"system": SCT, "code": "709044004", "status": "confirmed"},
                       {"system": SCT, "code": "49436004", "status": "confirmed"},
                       {"system": SCT, "code": "271594007", "status": "refuted"}],
        "medications": [{"system": RX, "code": "313988"}, {"system": RX, "code": "314076"},
                        {"system": RX, "code": "866924", "frequency": "BID"}, {"text": "apixaban", "frequency": "BID"}],
        "observations": [{"code": "85354-9", "components": [138, 84]}, {"code": "8867-4", "value": 78},
                         {"code": "2160-0", "value": 1.3, "unit": "mg/dL"}, {"code": "2823-3", "value": 4.4}],
    })


# --------------------------------------------------------------------------------------------
# 6. Mixed PDF: page 1 typed (text layer), page 2 a scanned continuation.

MIXED_TEXT = [
    "CEDAR VALLEY MEDICAL GROUP",
    "PROGRESS NOTE",
    "",
    "Patient Name: Abernathy, Thomas J.          MRN: 60044129",
    "DOB: 01/15/1962          Sex: Male",
    "Date of Service: 03/06/2024",
    "",
    "Chief Complaint: Follow-up of COPD and hypertension.",
    "",
    "History of Present Illness: 62-year-old man with COPD and hypertension",
    "presents for follow-up. He reports a chronic cough but denies fever or",
    "hemoptysis. He is a former smoker who quit in 2015.",
    "",
    "Vital Signs: BP 134/86 mmHg, HR 82 bpm, RR 18, T 98.1 F, SpO2 94% on RA, BMI 31.2",
]

MIXED_SCAN = [
    "#Assessment and Plan:",
    "1. Chronic obstructive pulmonary disease - continue tiotropium",
    "   inhaler daily and albuterol as needed.",
    "2. Hypertension - continue hydrochlorothiazide 25 mg PO daily.",
    "3. Obesity - counseled on diet and exercise.",
    "4. Possible obstructive sleep apnea - refer for sleep study.",
    "",
    "Allergies: No known drug allergies.",
]


def mixed_pdf():
    path = os.path.join(SAMPLES, "mixed-progress-note.pdf")
    c = canvas.Canvas(path, pagesize=letter, invariant=1)
    y = 720
    for i, line in enumerate(MIXED_TEXT):
        c.setFont("Helvetica-Bold" if i < 2 else "Helvetica", 13 if i < 2 else 10.5)
        c.drawString(72, y, line)
        y -= 18 if i < 2 else 15
    c.showPage()
    img = scanned(render_page(MIXED_SCAN, 30), 300)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    from reportlab.lib.utils import ImageReader
    c.drawImage(ImageReader(buf), 0, 0, width=letter[0], height=letter[1])
    c.showPage()
    c.save()
    write_expect("mixed-progress-note", {
        "pages": 2,
        "read_by": {"text_layer": 1, "tesseract": 1},
        "patient": {"family": "Abernathy", "given": ["Thomas", "J"], "birthDate": "1962-01-15", "gender": "male",
                    "mrn": "60044129"},
        "doc_type": "11506-3",
        "date": "2024-03-06",
        "conditions": [{"system": SCT, "code": "13645005", "status": "confirmed"},
                       {"system": SCT, "code": "38341003", "status": "confirmed"},
                       {"system": SCT, "code": "68154008", "status": "confirmed"},
                       {"system": SCT, "code": "386661006", "status": "refuted"},
                       {"system": SCT, "code": "414916001", "status": "confirmed"},
                       {"system": SCT, "code": "78275009", "status": "provisional"}],
        "medications": [{"system": RX, "code": "310798", "frequency": "daily"}, {"text": "tiotropium"}],
        "observations": [{"code": "85354-9", "components": [134, 86]}, {"code": "8867-4", "value": 82},
                         {"code": "9279-1", "value": 18}, {"code": "8310-5", "value": 98.1, "unit": "[degF]"},
                         {"code": "2708-6", "value": 94}, {"code": "39156-5", "value": 31.2, "unit": "kg/m2"}],
        "allergies": [{"system": SCT, "code": "409137002"}],
    })


# --------------------------------------------------------------------------------------------
# Bad inputs: each must be refused with a clear reason without stopping the batch.

def png_with_header(width, height):
    """A PNG whose header claims a huge image over a tiny payload: a decompression-bomb shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")


def bad_inputs():
    os.makedirs(BAD, exist_ok=True)
    open(os.path.join(BAD, "empty.pdf"), "wb").close()
    with open(os.path.join(SAMPLES, "lab-report.pdf"), "rb") as f:
        good = f.read()
    with open(os.path.join(BAD, "corrupt.pdf"), "wb") as f:
        f.write(b"%PDF-1.4\n" + bytes(random.Random(5).randrange(256) for _ in range(3000)))
    with open(os.path.join(BAD, "truncated.pdf"), "wb") as f:
        f.write(good[: len(good) // 3])
    # Cut where its page tree can be rebuilt but its content stream is gone: a blank page.
    with open(os.path.join(BAD, "cut-content.pdf"), "wb") as f:
        f.write(good[: len(good) * 6 // 10])
    c = canvas.Canvas(os.path.join(BAD, "encrypted.pdf"), pagesize=letter, invariant=1,
                      encrypt=StandardEncryption("user-secret", "owner-secret", strength=128))
    c.drawString(72, 700, "Patient Name: Test, Encrypted   MRN: 99999999")
    c.showPage()
    c.save()
    with open(os.path.join(BAD, "unsupported.docx"), "wb") as f:
        f.write(b"PK\x03\x04" + b"\0" * 200)
    with open(os.path.join(BAD, "notes.txt"), "w") as f:
        f.write("Patient called to reschedule.\n")
    with open(os.path.join(BAD, "bomb.png"), "wb") as f:
        f.write(png_with_header(100_000, 100_000))
    c = canvas.Canvas(os.path.join(BAD, "huge-page.pdf"), pagesize=(14_000, 14_000), invariant=1)
    c.rect(10, 10, 100, 100)
    c.showPage()
    c.save()
    rng = random.Random(7)
    # A JPEG whose scan data is random bytes (its headers the intake form's): decoded leniently it
    # is a grey page, strictly it is damaged.
    with open(os.path.join(SAMPLES, "intake-form.jpg"), "rb") as f:
        jpeg = f.read()
    sos = jpeg.find(b"\xff\xda")
    start = sos + 2 + int.from_bytes(jpeg[sos + 2:sos + 4], "big")
    noise = bytes(rng.getrandbits(8) for _ in range(len(jpeg) - start - 2)).replace(b"\xff", b"\xfe")
    with open(os.path.join(BAD, "noise-scan.jpg"), "wb") as f:
        f.write(jpeg[:start] + noise + b"\xff\xd9")
    # A scanned page whose only image is a damaged JPEG 2000 stream: rendered, it is blank.
    with open(os.path.join(BAD, "damaged-image.pdf"), "wb") as f:
        f.write(pdf_with_image(b"/JPXDecode", bytes(rng.getrandbits(8) for _ in range(3000))))


def pdf_with_image(filter_name, data):
    """A one-page PDF drawing one 1700 x 2200 gray image stream, as written."""
    content = b"q 500 0 0 700 50 50 cm /Im1 Do Q"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 1700 /Height 2200 /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter " + filter_name + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out, offsets = b"%PDF-1.5\n", []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


# --------------------------------------------------------------------------------------------
# Review inputs: a clinical note that names no patient; its findings must be held, not dropped.

REVIEW = os.path.join(ROOT, "tests", "fixtures", "review")


def review_inputs():
    os.makedirs(REVIEW, exist_ok=True)
    c = canvas.Canvas(os.path.join(REVIEW, "unidentified-note.pdf"), pagesize=letter, invariant=1)
    y = 720
    for line in ["PROGRESS NOTE", "Date of service: 03/14/2024",
                 "Assessment: Type 2 diabetes mellitus. Essential hypertension.",
                 "The patient denies chest pain.",
                 "Plan: continue metformin 500 mg by mouth twice daily."]:
        c.setFont("Helvetica", 11)
        c.drawString(72, y, line)
        y -= 16
    c.showPage()
    c.save()


FAX_HEADER = "MAR-11-2024 09:14  FROM: LAKESIDE HEART FAILURE CLINIC  541 555 0199  TO: 541 555 0110  P.{page:03d}/003"
FAXED = [
    [
        "#Referral for Pulmonology",
        "Date: 03/11/2024",
        "RE: Tomas Whitcombe     DOB: 06/21/1957     MRN: 50033918",
        "",
        "Mr. Whitcombe has chronic obstructive pulmonary disease and",
        "essential hypertension. He denies chest pain.",
    ],
    [
        "Current medications: lisinopril 10 mg daily.",
        "",
        "Sincerely,",
        "Dr. Priya Natarajan, MD",
    ],
]


def faxed_referral():
    """A referral as a fax server stores it: Group 3 (one-dimensional) TIFF at standard fax
    resolution, 204 x 98 dpi, each page under the sending machine's transmission line. The line
    announces three pages; two arrived. Its sender's name holds a condition the patient is not
    said to have."""
    pages = []
    for i, lines in enumerate(FAXED):
        img = render_page(lines, 40 + i)
        d = ImageDraw.Draw(img)
        d.text((120, 70), FAX_HEADER.format(page=i + 1), font=font(30), fill=0)
        img = img.resize((int(8.5 * 204), int(11 * 98)), Image.LANCZOS).point(lambda v: 255 if v > 150 else 0)
        pages.append(img.convert("1"))
    path = os.path.join(REVIEW, "faxed-referral.tif")
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="group3", dpi=(204, 98))


def faxed_referral_2d():
    """The same fax pages coded two-dimensionally (Group 3 with T4Options bit 0: each row coded
    against the row above), as many fax servers store them: decoded, every pixel must equal the
    one-dimensional file's."""
    src = Image.open(os.path.join(REVIEW, "faxed-referral.tif"))
    pages = []
    for i in range(src.n_frames):
        src.seek(i)
        pages.append(src.copy())
    path = os.path.join(REVIEW, "faxed-referral-2d.tif")
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="group3", tiffinfo={292: 1}, dpi=(204, 98))


def main():
    os.makedirs(SAMPLES, exist_ok=True)
    os.makedirs(EXPECTED, exist_ok=True)
    discharge_summary()
    lab_report()
    medication_list()
    intake_form()
    referral_letter()
    mixed_pdf()
    bad_inputs()
    review_inputs()
    faxed_referral()
    faxed_referral_2d()
    for name in sorted(os.listdir(SAMPLES)):
        print(f"{name}: {os.path.getsize(os.path.join(SAMPLES, name))} bytes")


if __name__ == "__main__":
    main()
