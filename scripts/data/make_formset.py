#!/usr/bin/env python3
"""Generates a wider set of realistic documents with their gold: claim forms (CMS-1500 02/12 and
UB-04 layouts), intake forms with check boxes and an emergency contact, lab result tables,
insurance cards, immunization cards, faxed referral letters, and non-clinical controls (bank
statements, invoices, pay stubs) — each rendered as a scan with varied fonts, layouts, skew, blur
and speckle, and each with a gold entry in the schema of ../shared/eval/realdocs/gold.json, so
`score_realdocs.py` scores paperchart on them exactly as on the real documents.

Apart from scripts/data/make_samples.py (the samples the tests pin): this set is for measuring,
not for pinning, and is written outside the repository (default .cache/formset/).

Every person, number and address is invented.

    .venv/bin/python scripts/data/make_formset.py [--out DIR] [--per-kind N] [--seed S]
    make formset-eval     (generates, runs paperchart, scores)
"""
import argparse
import json
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DPI = 200
PAGE = (int(8.5 * DPI), 11 * DPI)
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu"]
FACES = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf"]

GIVEN_M = ["James", "Robert", "Miguel", "Wei", "Kwame", "Arjun", "Luca", "Tomasz", "Hiroshi", "Daniel", "Omar", "Samuel"]
GIVEN_F = ["Maria", "Aisha", "Mei", "Sofia", "Priya", "Grace", "Elena", "Fatima", "Hannah", "Yuki", "Amara", "Claire"]
FAMILY = ["Okafor", "Nguyen", "Garcia", "Kowalski", "Haddad", "Lindqvist", "Patel", "Moreau", "Tanaka", "Mensah",
          "Fischer", "Rossi", "Alvarez", "Brennan", "Osei", "Novak"]
STREETS = ["Maple Avenue", "Harbor Road", "Cedar Lane", "Willow Creek Drive", "Summit Street", "Lakeview Court"]
CITIES = [("Springfield", "IL", "62704"), ("Riverbend", "OR", "97401"), ("Ashford", "CT", "06278"),
          ("Fairview", "TX", "75069"), ("Lakeside", "MI", "49116"), ("Brookhaven", "GA", "30319")]
PAYERS = ["Northwind Health Plan", "Bluebird Health Insurance", "Summit Care Assurance", "Harbor Mutual Health",
          "Evergreen Community Health Plan"]
# (words on the form, ICD-10-CM code, what the gold accepts)
DX = [("Essential hypertension", "I10"), ("Type 2 diabetes mellitus without complications", "E11.9"),
      ("Asthma, unspecified", "J45.909"), ("Gastro-esophageal reflux disease", "K21.9"),
      ("Hyperlipidemia, unspecified", "E78.5"), ("Low back pain", "M54.50"), ("Acute bronchitis", "J20.9"),
      ("Urinary tract infection", "N39.0"), ("Migraine", "G43.909"), ("Major depressive disorder, single episode", "F32.9"),
      ("Hypothyroidism", "E03.9"), ("Anemia", "D64.9"), ("Nausea", "R11.0"), ("Chest pain", "R07.9")]
CHECK_CONDITIONS = [("Diabetes", ["diabetes mellitus", "diabetes"]), ("High blood pressure", ["hypertension", "high blood pressure"]),
                    ("Asthma", ["asthma"]), ("Heart disease", ["heart disease"]), ("Stroke", ["stroke", "cerebrovascular accident"]),
                    ("Seizures", ["seizure", "seizures", "epilepsy"]), ("Depression", ["depression", "depressive disorder"]),
                    ("Thyroid disease", ["thyroid disease", "disorder of thyroid gland"]), ("Kidney disease", ["kidney disease"]),
                    ("Cancer", ["cancer", "malignant neoplasm"])]
LABS = [("Sodium", "mmol/L", (134, 147), "135-145", "2951-2"), ("Potassium", "mmol/L", (3.2, 5.6), "3.5-5.1", "2823-3"),
        ("Glucose", "mg/dL", (70, 190), "70-99", "2345-7"), ("Creatinine", "mg/dL", (0.6, 1.6), "0.6-1.2", "2160-0"),
        ("Hemoglobin", "g/dL", (10.5, 16.5), "12.0-16.0", "718-7"),
        ("Hemoglobin A1c", "%", (4.8, 9.5), "4.0-5.6", "4548-4"), ("TSH", "mIU/L", (0.3, 6.0), "0.4-4.0", "3016-3"),
        ("Cholesterol", "mg/dL", (140, 260), "<200", "2093-3")]
VACCINES = [("Tdap", "115"), ("Influenza", "88"), ("Hep B", "45"), ("MMR", "03"), ("Shingrix", "187"), ("PCV13", "152")]


def font(rng, size, bold=False):
    face = rng.choice(FACES)
    if bold and face in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"):
        face = face.replace(".ttf", "-Bold.ttf")
    return ImageFont.truetype(os.path.join(FONT_DIRS[0], face), size)


class Page:
    def __init__(self, rng, size=PAGE):
        self.rng = rng
        self.img = Image.new("L", size, 255)
        self.d = ImageDraw.Draw(self.img)
        self.f = font(rng, 26)
        self.small = font(rng, 20)
        self.bold = font(rng, 34, bold=True)
        # Every string drawn: the page's true text, for calibrating OCR confidence.
        self.written = []

    def text(self, x, y, s, f=None):
        self.d.text((x, y), s, font=f or self.f, fill=0)
        self.written.append(s)

    def box(self, x, y, w, h, width=2):
        self.d.rectangle([x, y, x + w, y + h], outline=0, width=width)

    def checkbox(self, x, y, ticked, size=26):
        self.box(x, y, size, size)
        if ticked:
            self.d.line([x + 4, y + 4, x + size - 4, y + size - 4], fill=0, width=3)
            self.d.line([x + size - 4, y + 4, x + 4, y + size - 4], fill=0, width=3)

    def scan(self, path):
        rng = self.rng
        img = self.img.rotate(rng.uniform(-1.2, 1.2), resample=Image.BICUBIC, expand=False, fillcolor=255)
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
        px = img.load()
        w, h = img.size
        for _ in range(int(w * h * rng.uniform(0.0002, 0.0008))):
            px[rng.randrange(w), rng.randrange(h)] = rng.choice((0, 90, 160))
        img.save(path)
        # The true text beside the documents, not among them: <out>/truth/<file>.txt.
        truth = os.path.join(os.path.dirname(os.path.dirname(path)), "truth")
        os.makedirs(truth, exist_ok=True)
        with open(os.path.join(truth, os.path.basename(path) + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(self.written) + "\n")


def person(rng):
    male = rng.random() < 0.5
    given = rng.choice(GIVEN_M if male else GIVEN_F)
    family = rng.choice(FAMILY)
    y, m, d = rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28)
    city = rng.choice(CITIES)
    return {"given": given, "family": family, "gender": "male" if male else "female",
            "birthDate": f"{y:04d}-{m:02d}-{d:02d}", "mdY": f"{m:02d}/{d:02d}/{y:04d}",
            "street": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", "city": city,
            "phone": f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"}


def gold(kind, clinical=True, patient=None, conditions=(), immunizations=(), must_not=(), notes=()):
    return {"kind": kind, "clinical": clinical, "patient": patient, "conditions": list(conditions),
            "medications": [], "allergies": [], "no_known_allergies": False, "immunizations": list(immunizations),
            "procedures": [], "observations": [], "optional": [], "must_not": list(must_not), "notes": list(notes)}


def pid(p, identifiers=None, gender=True, birth=True):
    """The gold patient. gender: True written on the form; "box" only a ticked box (reading it
    is not required, a wrong one counts); False not on the form (none may be written)."""
    sex = {True: p["gender"], "box": {"value": p["gender"], "required": False}, False: None}[gender]
    return {"given": p["given"], "family": p["family"], "gender": sex,
            "birthDate": p["birthDate"] if birth else None, "identifiers": identifiers}


PHONE_TRAPS = {"why": "phone numbers and ZIP codes are not diagnoses", "codes": ["B58", "B55", "B88", "C00"]}


def birth_and_sex(pg, who, date_x, sex_x, y):
    """A claim's birth date boxes ("MM  DD  YYYY") and its M and F boxes, one ticked."""
    m, d, yy = who["mdY"].split("/")
    pg.text(date_x, y, f"{m}  {d}  {yy}")
    pg.text(sex_x, y, "M")
    pg.checkbox(sex_x + 30, y, who["gender"] == "male")
    pg.text(sex_x + 75, y, "F")
    pg.checkbox(sex_x + 100, y, who["gender"] == "female")


def claim_1500(rng, path):
    p, ins = person(rng), person(rng)
    ins["family"] = p["family"]
    dx = rng.sample(DX, rng.randint(1, 4))
    pg = Page(rng)
    pg.text(420, 60, "HEALTH INSURANCE CLAIM FORM", pg.bold)
    pg.text(420, 105, "APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12", pg.small)
    pg.text(60, 170, "1. MEDICARE  MEDICAID  TRICARE  CHAMPVA  GROUP HEALTH PLAN  FECA  OTHER", pg.small)
    member = f"{rng.choice('ABCDWXYZ')}{rng.randint(10000000, 99999999)}"
    pg.text(1050, 170, "1a. INSURED'S I.D. NUMBER", pg.small)
    pg.text(1050, 200, member)
    pg.box(40, 240, 1620, 120)
    pg.text(60, 250, "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)", pg.small)
    pg.text(70, 300, f"{p['family'].upper()}, {p['given'].upper()}")
    # Captions apart, as the printed form's boxes keep them.
    pg.text(720, 250, "3. PATIENT'S BIRTH DATE    SEX", pg.small)
    birth_and_sex(pg, p, 730, 960, 300)
    pg.text(1110, 250, "4. INSURED'S NAME (Last, First, MI)", pg.small)
    pg.text(1120, 300, f"{ins['family'].upper()}, {ins['given'].upper()}")
    pg.text(60, 380, "5. PATIENT'S ADDRESS (No., Street)", pg.small)
    pg.text(70, 415, p["street"].upper())
    pg.text(60, 460, "CITY  STATE  ZIP CODE  TELEPHONE (Include Area Code)", pg.small)
    pg.text(70, 495, f"{p['city'][0].upper()}  {p['city'][1]}  {p['city'][2]}  {p['phone']}")
    pg.text(60, 560, "10. IS PATIENT'S CONDITION RELATED TO:", pg.small)
    pg.text(70, 600, "a. EMPLOYMENT? (Current or Previous)   YES")
    pg.checkbox(650, 600, False)
    pg.text(700, 600, "NO")
    pg.checkbox(760, 600, True)
    # Item 11a beside item 10a, as on the printed form: the insured's own birth date and sex.
    pg.text(1100, 560, "11. INSURED'S POLICY GROUP OR FECA NUMBER", pg.small)
    pg.text(1100, 585, "a. INSURED'S DATE OF BIRTH    SEX", pg.small)
    birth_and_sex(pg, ins, 1110, 1330, 620)
    pg.text(70, 640, "b. AUTO ACCIDENT?   YES")
    pg.checkbox(400, 640, False)
    pg.text(450, 640, "NO")
    pg.checkbox(510, 640, True)
    pg.text(60, 700, "14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)", pg.small)
    pg.text(70, 735, f"{rng.randint(1, 12):02d} {rng.randint(1, 28):02d} 24")
    pg.text(60, 800, "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY  Relate A-L to service line below (24E)   ICD Ind. 0", pg.small)
    letters = "ABCD"
    # A-D under item 21, left of item 22 as on the 02/12 form.
    for i, (_, code) in enumerate(dx):
        x = 70 + (i % 4) * 250
        shown = code.replace(".", "") if rng.random() < 0.5 else code
        pg.text(x, 845, f"{letters[i]}. {shown}")
    pg.text(1100, 800, "22. RESUBMISSION CODE", pg.small)
    pg.text(60, 920, "24. A. DATE(S) OF SERVICE  B. PLACE  D. PROCEDURES, SERVICES, OR SUPPLIES  E. DIAGNOSIS POINTER  F. $ CHARGES", pg.small)
    services = sorted((rng.randint(1, 12), rng.randint(1, 28)) for _ in range(rng.randint(1, 3)))
    for i, (sm, sd) in enumerate(services):
        pg.text(70, 965 + i * 45, f"{sm:02d} {sd:02d} 24   11   99213   A   {rng.randint(80, 250)} 00")
    # Items 25, 26 and 28 in their own boxes, each value under its caption.
    account = rng.choice([f"{rng.randint(100000, 999999)}", f"{rng.choice('ABKP')}{rng.randint(1000, 99999)}-{rng.randint(1, 9)}"])
    for x, caption, value in [(60, "25. FEDERAL TAX I.D. NUMBER", f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"),
                              (560, "26. PATIENT'S ACCOUNT NO.", account),
                              (1000, "28. TOTAL CHARGE", f"$ {rng.randint(100, 900)} 00")]:
        pg.text(x, 1150, caption, pg.small)
        pg.text(x + 10, 1190, value)
    pg.text(60, 1260, "33. BILLING PROVIDER INFO & PH #", pg.small)
    doc = person(rng)
    pg.text(70, 1300, f"{doc['given']} {doc['family']} MD   {doc['phone']}")
    pg.scan(path)
    conds = [{"text": words, "assertion": "present", "codes": [code]} for words, code in dx]
    must = [PHONE_TRAPS, {"why": "claim caption 'ILLNESS, INJURY, or PREGNANCY (LMP)'", "text": ["pregnancy", "pregnant"]},
            {"why": "claim question 'AUTO ACCIDENT?' answered NO", "text": ["accident"]},
            {"why": "claim box 'EMPLOYMENT?'", "text": ["employment", "employed"]}]
    g = gold("claim form CMS-1500 (02/12)", patient=pid(p, identifiers=[account], gender="box", birth=True),
             conditions=conds, must_not=must,
                notes=["the insured (items 4 and 11a) is not the patient", "sex is a ticked box: not counted",
                    "item 26 PATIENT'S ACCOUNT NO. is the patient's (type AN); item 25 the provider's tax id"])
    # Not scored by score_realdocs.py; tests/forms.rs checks the claim's date against it.
    g["service_date"] = f"2024-{services[0][0]:02d}-{services[0][1]:02d}"
    return g


def claim_ub04(rng, path):
    p = person(rng)
    dx = rng.sample(DX, rng.randint(1, 3))
    pg = Page(rng)
    pg.text(60, 60, "1 NORTHSIDE COMMUNITY HOSPITAL", pg.small)
    pg.text(1300, 60, "4 TYPE OF BILL  0111", pg.small)
    pg.text(1300, 100, "UB-04 CMS-1450", pg.small)
    sm, sd = rng.randint(1, 12), rng.randint(1, 25)
    pg.text(800, 60, "6 STATEMENT COVERS PERIOD  FROM   THROUGH", pg.small)
    pg.text(810, 100, f"{sm:02d}{sd:02d}24   {sm:02d}{sd + 3:02d}24")
    pg.text(60, 160, "8 PATIENT NAME", pg.small)
    pg.text(70, 195, f"{p['family'].upper()}, {p['given'].upper()}")
    pg.text(800, 160, "9 PATIENT ADDRESS", pg.small)
    pg.text(810, 195, f"{p['street'].upper()} {p['city'][0].upper()} {p['city'][1]} {p['city'][2]}")
    # Each box's value under its caption, as the form's boxes hold them.
    for x, caption, value in [(60, "10 BIRTHDATE", p["mdY"].replace("/", "")),
                              (300, "11 SEX", "M" if p["gender"] == "male" else "F"),
                              (420, "12 ADMISSION DATE", f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}24"),
                              (700, "14 TYPE", "1")]:
        pg.text(x, 250, caption, pg.small)
        pg.text(x + 10, 285, value)
    pg.text(60, 360, "42 REV. CD.  43 DESCRIPTION  44 HCPCS / RATE  46 SERV. UNITS  47 TOTAL CHARGES", pg.small)
    for i in range(3):
        pg.text(70, 400 + 40 * i, f"0{rng.randint(250, 450)}  SERVICE LINE {i + 1}   {rng.randint(1, 4)}   {rng.randint(100, 999)} 00")
    pg.text(60, 600, "50 PAYER NAME   60 INSURED'S UNIQUE ID", pg.small)
    pg.text(70, 640, f"{rng.choice(PAYERS).upper()}   {rng.randint(100000000, 999999999)}")
    pg.text(60, 720, "66 DX   67 PRINCIPAL DIAGNOSIS CODE   67A-Q OTHER DIAGNOSIS CODES", pg.small)
    pg.text(70, 760, "   ".join(code.replace(".", "") for _, code in dx))
    pg.text(60, 830, "69 ADMIT DX   70 PATIENT REASON DX   74 PRINCIPAL PROCEDURE", pg.small)
    pg.text(60, 920, "76 ATTENDING NPI  " + str(rng.randint(1000000000, 1999999999)), pg.small)
    pg.scan(path)
    conds = [{"text": words, "assertion": "present", "codes": [code]} for words, code in dx]
    g = gold("claim form UB-04", patient=pid(p, gender=True, birth=True), conditions=conds, must_not=[PHONE_TRAPS])
    g["service_date"] = f"2024-{sm:02d}-{sd:02d}"
    return g


def intake(rng, path):
    p, contact = person(rng), person(rng)
    pg = Page(rng)
    clinic = rng.choice(["Lakeside Family Medicine", "Harbor Internal Medicine", "Cedar Valley Clinic"])
    pg.text(60, 50, clinic, pg.small)
    pg.text(60, 80, f"Tel {person(rng)['phone']}  Fax {person(rng)['phone']}", pg.small)
    pg.text(500, 140, rng.choice(["NEW PATIENT INTAKE FORM", "PATIENT REGISTRATION FORM", "Patient Intake Form"]), pg.bold)
    y = 230
    pg.text(60, y, "Patient Information", pg.bold)
    y += 60
    pg.text(60, y, f"First Name: {p['given']}")
    pg.text(700, y, f"Last Name: {p['family']}")
    y += 50
    pg.text(60, y, f"Date of Birth: {p['mdY']}")
    pg.text(700, y, "Sex:  M")
    pg.checkbox(830, y, p["gender"] == "male")
    pg.text(880, y, "F")
    pg.checkbox(910, y, p["gender"] == "female")
    y += 50
    pg.text(60, y, f"Address: {p['street']}")
    y += 50
    pg.text(60, y, f"City: {p['city'][0]}   State: {p['city'][1]}   Zip Code: {p['city'][2]}")
    y += 50
    pg.text(60, y, f"Phone: {p['phone']}")
    y += 80
    pg.text(60, y, "Emergency Contact", pg.bold)
    y += 60
    pg.text(60, y, f"Name: {contact['given']} {contact['family']}   Relationship: {rng.choice(['Spouse', 'Sister', 'Son', 'Friend'])}")
    y += 50
    pg.text(60, y, f"Phone: {contact['phone']}")
    y += 90
    pg.text(60, y, "Medical History: do you have or have you had", pg.bold)
    y += 60
    items = rng.sample(CHECK_CONDITIONS, 6)
    conds, must = [], [PHONE_TRAPS]
    for label, names in items:
        state = rng.choice(["yes", "no", "blank"])
        pg.text(80, y, label)
        pg.text(600, y, "Yes")
        pg.checkbox(670, y, state == "yes")
        pg.text(730, y, "No")
        pg.checkbox(790, y, state == "no")
        if state == "yes":
            conds.append({"text": names[0], "synonyms": names[1:] + [label.lower()], "assertion": "present"})
        elif state == "no":
            conds.append({"text": names[0], "synonyms": names[1:] + [label.lower()], "assertion": "absent",
                          "accept": ["absent"]})
        else:
            must.append({"why": f"blank question '{label}'", "text": [label.lower()]})
        y += 50
    y += 40
    pg.text(60, y, "Have you been in contact with anyone with COVID-19 in the last 14 days?")
    y += 45
    pg.text(80, y, "Yes")
    pg.checkbox(150, y, False)
    pg.text(210, y, "No")
    pg.checkbox(270, y, True)
    must.append({"why": "a question about contact with COVID-19, answered No", "text": ["covid-19", "covid"], "codes": ["U07.1"]})
    y += 90
    pg.text(60, y, "Patient signature ______________________   Date " + f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024")
    pg.scan(path)
    return gold("intake form with check boxes", patient=pid(p, gender="box"), conditions=conds, must_not=must,
                notes=["the emergency contact is not the patient", "sex is a ticked box: not counted"])


def card(rng, path):
    p = person(rng)
    pg = Page(rng, size=(1700, 1070))
    payer = rng.choice(PAYERS)
    member = f"{rng.choice('ABCDWXYZ')}{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-{rng.randint(10000, 99999)}"
    group = f"{rng.randint(10000, 99999)}"
    pg.box(20, 20, 1660, 1030, width=4)
    pg.text(60, 60, payer, pg.bold)
    labels = rng.choice([("Member ID:", "Member:"), ("ID #:", "Member Name:"), ("Member ID:", "Subscriber:")])
    pg.text(60, 200, f"{labels[0]} {member}")
    pg.text(900, 200, f"Group Number: {group}")
    pg.text(60, 290, labels[1])
    pg.text(60, 340, f"{p['given'].upper()} {p['family'].upper()}")
    pg.text(900, 290, f"Payer ID: {rng.randint(10000, 99999)}")
    pg.text(60, 460, f"Rx BIN: {rng.randint(100000, 999999)}   Rx PCN: {rng.choice(['ADV', 'CN', 'PCS'])}   Rx GRP: RX{rng.randint(100, 999)}")
    doc = person(rng)
    pg.text(60, 560, f"PCP: Dr. {doc['given']} {doc['family']}   PCP Phone: {doc['phone']}")
    pg.text(60, 650, f"Copays: Office $25  Specialist $50  ER $150")
    pg.text(60, 950, f"Customer Service {person(rng)['phone']}", pg.small)
    pg.scan(path)
    return gold("health insurance card", patient={"given": p["given"], "family": p["family"], "gender": None,
                                                  "birthDate": None, "identifiers": [member]},
                must_not=[PHONE_TRAPS, {"why": "pharmacy routing", "text": ["rx"]}])


def immunization_card(rng, path):
    p = person(rng)
    pg = Page(rng, size=(1800, 1200))
    pg.text(60, 40, rng.choice(["Vaccination Record Card", "Immunization Record", "COVID-19 Vaccination Record Card"]), pg.bold)
    pg.text(60, 140, f"{p['family']}        {p['given']}        {rng.choice('ABCDEJKLMRST')}")
    pg.text(60, 190, "Last Name              First Name             MI", pg.small)
    mrn = f"{rng.randint(100000, 999999)}{rng.choice(['AB', 'CD', 'XY'])}{rng.randint(10, 99)}"
    pg.text(60, 260, f"{p['mdY']}        {mrn}")
    pg.text(60, 310, "Date of Birth          Patient number (medical record or IIS record number)", pg.small)
    pg.text(60, 400, "Vaccine          Product Name / Manufacturer   Lot Number     Date       Clinic Site", pg.small)
    doses = []
    vac = rng.choice(VACCINES)
    for i in range(rng.randint(1, 3)):
        lot = f"{rng.choice(['EK', 'EL', 'FA', 'U'])}{rng.randint(1000, 9999)}{rng.choice(['', 'A'])}"
        mm, dd = rng.randint(1, 12), rng.randint(1, 28)
        pg.text(60, 460 + i * 90, f"{['1st', '2nd', '3rd'][i]} Dose   {vac[0]}      {lot}     {mm}/{dd}/23    CLINIC")
        doses.append({"vaccine": vac[0], "codes": [vac[1]], "date": f"2023-{mm:02d}-{dd:02d}", "lot": lot})
    pg.text(60, 460 + 3 * 90, "Booster Shot                                      mm / dd / yy")
    pg.scan(path)
    return gold("immunization record card", patient=pid(p, identifiers=[mrn], gender=False), immunizations=doses,
                must_not=[{"why": "row caption 'Booster Shot'", "text": ["firearm", "gunshot"], "codes": ["W34.00"]},
                          {"why": "column caption 'MI'", "text": ["myocardial infarction"], "codes": ["I21.9"]}])


def lab(rng, path):
    p = person(rng)
    mrn = f"{rng.randint(10000000, 99999999)}"
    pg = Page(rng)
    pg.text(60, 60, "LABORATORY REPORT", pg.bold)
    if rng.random() < 0.5:
        pg.text(60, 140, f"Patient: {p['family']}, {p['given']}     DOB: {p['mdY']}     MRN: {mrn}")
    else:
        # The patient as a table of aligned columns: captions over one row of values.
        for x, caption, value in [(60, "Patient Name", f"{p['given']} {p['family']}"),
                                  (620, "Date of Birth", p["mdY"]), (980, "MRN", mrn)]:
            pg.text(x, 100, caption, pg.small)
            pg.text(x, 135, value)
    pg.text(60, 190, f"Collected: {rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024   Ordering physician: Dr. {person(rng)['family']}")
    # The columns in the report's own order: the test's name first, the rest as labs print them
    # (a flag before the result, units after the range), each column where its header stands.
    others = ["Result", "Flag", "Units", "Ref Range"]
    rng.shuffle(others)
    cols = ["Test"] + others
    xs = [60, 400, 620, 840, 1060]
    for x, c in zip(xs, cols):
        pg.text(x, 280, c)
    y = 340
    observations = []
    for name, unit, (lo, hi), rr, code in rng.sample(LABS, 5):
        v = round(rng.uniform(lo, hi), 1)
        low, high = (None, float(rr[1:])) if rr.startswith("<") else map(float, rr.split("-"))
        flag = "H" if v > high else "L" if low is not None and v < low else ""
        cells = {"Test": name, "Result": f"{v:g}", "Flag": flag, "Units": unit, "Ref Range": rr}
        for x, c in zip(xs, cols):
            if cells[c]:
                pg.text(x, y, cells[c])
        observations.append({"text": name, "codes": [code], "values": [v], "unit": unit})
        y += 55
    pg.text(60, y + 60, f"Performing lab: Central Lab, {person(rng)['phone']}   CLIA 05D{rng.randint(1000000, 9999999)}", pg.small)
    pg.scan(path)
    g = gold("laboratory report (table, columns in the report's order)", patient=pid(p, identifiers=[mrn], gender=False),
             must_not=[PHONE_TRAPS])
    g["observations"] = observations
    return g


# A flowsheet's columns: header, LOINC code, range of values, decimals.
FLOWSHEET = [("BP", "85354-9", None, 0), ("Pulse", "8867-4", (55, 110), 0), ("Temp (F)", "8310-5", (97.0, 101.5), 1),
             ("SpO2", "2708-6", (88, 100), 0), ("Resp", "9279-1", (12, 24), 0), ("Weight (kg)", "29463-7", (50, 120), 1)]


def flowsheet(rng, path):
    """Vital signs as a flowsheet: a header of measures, a row a date, a value a cell."""
    p = person(rng)
    mrn = f"{rng.randint(10000000, 99999999)}"
    pg = Page(rng)
    pg.text(60, 60, "VITAL SIGNS FLOWSHEET", pg.bold)
    pg.text(60, 140, f"Patient: {p['family']}, {p['given']}     DOB: {p['mdY']}     MRN: {mrn}")
    cols = [("Date", None, None, 0)] + rng.sample(FLOWSHEET, 4)
    xs = [60, 330, 520, 710, 900]
    for x, (h, _, _, _) in zip(xs, cols):
        pg.text(x, 240, h)
    observations = []
    for r in range(3):
        y = 300 + r * 55
        date = f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024"
        pg.text(xs[0], y, date)
        for x, (h, code, span, digits) in zip(xs[1:], cols[1:]):
            if code == "85354-9":
                sys_v, dia_v = rng.randint(100, 160), rng.randint(60, 95)
                cell, values = f"{sys_v}/{dia_v}", [float(sys_v), float(dia_v)]
            else:
                v = round(rng.uniform(*span), digits)
                if digits and v == int(v):
                    v += 0.1 * rng.choice([1, 3, 7])
                    v = round(v, digits)
                cell, values = (f"{v:.{digits}f}" + ("%" if code == "2708-6" else "")), [float(f"{v:.{digits}f}")]
            pg.text(x, y, cell)
            observations.append({"text": h.split(" (")[0], "codes": [code], "values": values})
    pg.scan(path)
    g = gold("vital signs flowsheet (a row a date)", patient=pid(p, identifiers=[mrn], gender=False))
    g["observations"] = observations
    return g


def referral(rng, path):
    p = person(rng)
    dx = rng.sample(DX, 2)
    pg = Page(rng)
    pg.text(60, 40, f"FAX  {person(rng)['phone']}  TO: {person(rng)['phone']}  PAGE 1 OF 1  {rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024", pg.small)
    pg.text(60, 120, f"{rng.choice(['Harbor', 'Cedar', 'Summit'])} Cardiology Associates", pg.bold)
    pg.text(60, 200, "Referral Letter")
    pg.text(60, 260, f"RE: {p['given']} {p['family']}   DOB: {p['mdY']}")
    pg.text(60, 330, f"Dear Dr. {person(rng)['family']},")
    body = [f"Thank you for seeing {p['given']}, who has {dx[0][0].lower()} and {dx[1][0].lower()}.",
            "The patient denies fever and denies shortness of breath.",
            f"Please call our office at {person(rng)['phone']} with any questions.",
            "Sincerely,", f"Dr. {person(rng)['given']} {person(rng)['family']}"]
    for i, line in enumerate(body):
        pg.text(60, 400 + i * 55, line)
    # Half carry a fax service's confidentiality footer, which names conditions nobody has (drawn
    # from the file's name, so the other documents' draws stay as they were).
    own = random.Random(os.path.basename(path))
    if own.random() < 0.5:
        notice = own.choice([
            ["CONFIDENTIALITY NOTICE: This facsimile may contain information relating to HIV, substance",
             "abuse or mental health treatment that is privileged and confidential. If you have received",
             "this fax in error, please notify the sender and destroy all copies."],
            ["The information in this transmission is intended only for the recipient named above and may",
             "include records of alcohol or drug abuse treatment protected by 42 CFR Part 2. Unauthorized",
             "disclosure is prohibited."],
        ])
        for i, line in enumerate(notice):
            pg.text(60, 2900 + i * 34, line, pg.small)
    pg.scan(path)
    conds = [{"text": w, "assertion": "present", "codes": [c], "synonyms": [w.split(",")[0].lower()]} for w, c in dx]
    conds += [{"text": "fever", "assertion": "absent"}, {"text": "shortness of breath", "assertion": "absent", "synonyms": ["dyspnea"]}]
    notice_trap = {"why": "a confidentiality notice names conditions nobody has",
                   "text": ["hiv", "substance abuse", "mental health", "alcohol", "drug abuse"]}
    return gold("faxed referral letter", patient=pid(p, gender=False), conditions=conds,
                must_not=[PHONE_TRAPS, notice_trap])


def nonclinical(rng, path):
    p = person(rng)
    pg = Page(rng)
    kind = rng.choice(["bank", "invoice", "paystub"])
    if kind == "bank":
        pg.text(60, 60, "AnyCompany Banking Services", pg.bold)
        pg.text(60, 140, f"{p['given'].upper()} {p['family'].upper()}  {p['street'].upper()}")
        pg.text(60, 190, f"Account statement   Account number {rng.randint(10 ** 11, 10 ** 12 - 1)}")
        pg.text(60, 240, f"Questions? Call {p['phone']}   Member FDIC")
        lines = ["Previous balance  $4,210.55", "Deposits and credits  1,905.12", "Withdrawals and debits  2,001.90",
                 "New balance  $4,113.77", "11 S 66 002   3 C 001"]
    elif kind == "invoice":
        pg.text(60, 60, "INVOICE", pg.bold)
        pg.text(60, 140, f"Invoice number {rng.randint(1000, 9999)}   Date 03/{rng.randint(1, 28):02d}/2024")
        pg.text(60, 190, f"Bill to: {p['given']} {p['family']}, {p['street']}, {p['city'][0]} {p['city'][1]} {p['city'][2]}")
        lines = ["Item  Quantity  Unit price  Amount", "Shipping boxes  10  $2.50  $25.00",
                 "Packing tape  4  $3.10  $12.40", "Subtotal  $37.40", "Sales tax  $3.08", "Amount due  $40.48",
                 f"Phone {p['phone']}"]
    else:
        pg.text(60, 60, "Earnings Statement", pg.bold)
        pg.text(60, 140, f"Employee: {p['given']} {p['family']}   Pay period: 03/01/2024 - 03/15/2024   Pay date 03/20/2024")
        lines = ["Earnings  Rate  Hours  This period  Year to date", "Regular  25.00  80.00  2,000.00  10,000.00",
                 "Gross pay  2,000.00", "Deductions: Federal income tax 210.00  Social Security 124.00  Medicare 29.00",
                 "Net pay  1,637.00", "Direct deposit  Checking ****1234"]
    for i, line in enumerate(lines):
        pg.text(60, 320 + i * 60, line)
    pg.scan(path)
    return gold(f"non-clinical control ({kind})", clinical=False, patient=None,
                must_not=[PHONE_TRAPS, {"why": "mailing codes", "codes": ["S66.002", "C00.1"]}])


KINDS = {"claim1500": claim_1500, "ub04": claim_ub04, "intake": intake, "card": card, "immunization": immunization_card,
         "lab": lab, "flowsheet": flowsheet, "referral": referral, "nonclinical": nonclinical}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "formset"))
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    a = ap.parse_args()
    docs = os.path.join(a.out, "documents")
    os.makedirs(docs, exist_ok=True)
    entries = {}
    for kind in a.kinds.split(","):
        make = KINDS[kind]
        for i in range(a.per_kind):
            rng = random.Random(f"{a.seed}-{kind}-{i}")
            name = f"{kind}_{i:02d}.png"
            entries[name] = make(rng, os.path.join(docs, name))
    with open(os.path.join(a.out, "gold.json"), "w", encoding="utf-8") as f:
        json.dump({"schema": "paperchart-realdocs-gold/1",
                   "about": "generated by scripts/data/make_formset.py; every person is invented",
                   "documents": entries}, f, indent=1)
    print(f"{len(entries)} documents and their gold in {a.out}")


if __name__ == "__main__":
    main()
