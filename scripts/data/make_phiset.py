#!/usr/bin/env python3
"""Generates clinical notes in the i2b2 de-identification style with every piece of PHI annotated,
to measure PHI recall (`paperchart nlp extract`, scored by ../shared/eval/score_entities.py on
type PHI):

    python3 scripts/data/make_phiset.py --out data/eval/phi --notes 120 --seed 5
    target/release/paperchart nlp extract < data/eval/phi.jsonl > phi.pred.jsonl
    python3 ../shared/eval/score_entities.py data/eval/phi.gold.jsonl phi.pred.jsonl

Each note mixes the forms PHI takes in real notes: patient names as "LAST, FIRST" in capitals,
"First Last", "Mr./Ms. Last"; providers with titles, credentials ("Jane Q. Doe, MD") and
signatures ("Electronically signed by: ..."); full, written and partial dates ("3/80", "May
2020", "03/2019"); record and account numbers with dashes; phone numbers, short ones after a phone
word; street addresses; hospitals and clinics; ages over 89. Names are drawn from several origins,
some outside the US census lists paperchart knows. Every other note is a dictated letter in the
forms the first template lacks: names and signatures in capitals, relatives by name, pagers and
extensions, job and unit numbers, hospitals in capitals, dates without a year ("March 3rd",
"3/14", "'87"), professions and cities. Every third note is an emergency or clinic visit in the
forms of a record system's export: a caret-delimited header with a visit number, the care team
named by role ("Nurse Practitioner ..."), practices and groups ("... Family Medicine"), titled
hyphenated names, where and with whom the patient lives, "a retired ...", pagers written "#4-7781",
and the dictation's initials ("SO/jk"). Every person and number is invented. Standard library
only.
"""
import argparse
import json
import random

GIVEN = ["John", "Mary", "Robert", "Linda", "James", "Patricia", "Michael", "Barbara", "David", "Susan", "Maria",
         "Jose", "Wei", "Mei", "Aisha", "Omar", "Priya", "Arjun", "Kwame", "Ama", "Hiroshi", "Yuki", "Sofia",
         "Luca", "Fatima", "Tomasz", "Elena", "Grace", "Daniel", "Hannah"]
FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Martinez", "Nguyen", "Kim", "Patel", "Okafor",
          "Mensah", "Tanaka", "Haddad", "Kowalski", "Rossi", "Fischer", "Alvarez", "Brennan", "Osei", "Novak",
          "Lindqvist", "Moreau", "Chen", "Singh", "Cohen", "O'Neil", "Murphy", "Lopez", "Wright", "Baker"]
CREDENTIALS = ["MD", "M.D.", "DO", "NP", "PA-C", "RN"]
HOSPITALS = ["Riverside Medical Center", "Saint Agnes Hospital", "Northgate Clinic", "Lakeview Health Center",
             "Harbor View Hospital", "Maple Grove Medical Group"]
STREETS = ["Oak Street", "Maple Avenue", "Harbor Road", "Cedar Lane", "Willow Creek Drive", "Summit Street"]
CITIES = [("Boston", "MA", "02115"), ("Springfield", "IL", "62704"), ("Riverbend", "OR", "97401"),
          ("Fairview", "TX", "75069")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
# Names outside the census lists, hyphenated surnames, names that are also words.
RARE_GIVEN = ["Oluwaseun", "Thandiwe", "Siobhan", "Anneliese", "Ngozi", "Bartholomew", "Dagny", "Ximena", "Yolanda",
              "Hans Peter", "Mai", "Ingrid", "Kevin", "Otto"]
RARE_FAMILY = ["Schultze-Meyer", "Nakamura-Lee", "Quillen", "Zemlicka", "Uvalle", "Abernathy-Cho", "Oyelaran",
               "Vasquez", "Ofori", "Kimball"]
RELATIVES = ["wife", "husband", "son", "daughter", "sister", "brother", "mother", "father", "partner"]
PROFESSIONS = ["carpenter", "retired teacher", "nurse", "truck driver", "accountant", "farmer", "electrician"]
ROLES = ["Nurse Practitioner", "NP", "RN", "Physician Assistant", "physical therapist", "social worker",
         "case manager", "pharmacist", "Resident", "Attending", "dietitian"]
PRACTICE_WORDS = ["Family Medicine", "Internal Medicine", "Pediatrics", "Medical Associates", "Urgent Care",
                  "Family Practice", "Physicians"]
PRACTICE_PLACES = ["Briarwood", "Elm Hill", "Westbrook", "Cedar Ridge", "Pinecrest", "Stonebridge"]
HOME_TOWNS = ["Quincy", "Framingham", "Medford", "Lowell", "Brockton", "Waltham", "Salem"]
FACILITY_WORDS = ["GENERAL HOSPITAL", "MEDICAL CENTER", "CLINIC", "HEALTH CENTER"]
PLACE_WORDS = ["FAIRVIEW", "NORTHGATE", "SAINT LUKE'S", "MERCY", "LAKESIDE", "VALLEY"]
CLINICAL = ["chest pain", "shortness of breath", "type 2 diabetes mellitus", "essential hypertension",
            "atrial fibrillation", "chronic kidney disease", "asthma", "pneumonia", "congestive heart failure"]


class Note:
    def __init__(self):
        self.text = ""
        self.ents = []

    def add(self, s):
        self.text += s

    def phi(self, s, subtype):
        start = len(self.text)
        self.text += s
        self.ents.append({"type": "PHI", "subtype": subtype, "start": start, "end": start + len(s), "text": s})


def date_full(r):
    return r.choice([f"{r.randint(1, 12)}/{r.randint(1, 28)}/{r.randint(2015, 2024)}",
                     f"{r.randint(2015, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                     f"{r.choice(MONTHS)} {r.randint(1, 28)}, {r.randint(2015, 2024)}"])


def date_partial(r):
    return r.choice([f"{r.randint(1, 12)}/{r.randint(50, 99)}", f"{r.randint(1, 12):02d}/{r.randint(1990, 2023)}",
                     f"{r.choice(MONTHS)} {r.randint(1990, 2023)}", f"{r.choice(MONTHS)[:3]} {r.randint(1990, 2023)}"])


def note(r):
    n = Note()
    g, f = r.choice(GIVEN), r.choice(FAMILY)
    dg, df = r.choice(GIVEN), r.choice(FAMILY)
    style = r.randrange(3)
    if style == 0:
        n.phi(f"{f.upper()}, {g.upper()}", "NAME")
    elif style == 1:
        n.add("Patient: ")
        n.phi(f"{g} {f}", "NAME")
    else:
        n.add("Name: ")
        n.phi(f"{f}, {g}", "NAME")
    n.add("\nMRN: ")
    n.phi(f"{r.randint(100, 999)}-{r.randint(10, 99)}-{r.randint(100, 999)}", "ID")
    n.add("\nDate of service: ")
    n.phi(date_full(r), "DATE")
    n.add("\n\nHPI: ")
    age = r.choice([r.randint(30, 88), r.randint(90, 104)])
    n.phi(str(age), "AGE")
    n.add(f" year old {r.choice(['man', 'woman'])} with {r.choice(CLINICAL)} since ")
    n.phi(date_partial(r), "DATE")
    n.add(". Previously seen at ")
    n.phi(r.choice(HOSPITALS), "LOCATION")
    n.add(" by Dr. ")
    n.phi(r.choice(FAMILY), "NAME")
    n.add(r.choice([". ", f" in "]))
    if n.text.endswith(" in "):
        n.phi(date_partial(r), "DATE")
        n.add(". ")
    n.add(f"{'Mr.' if r.random() < 0.5 else 'Ms.'} ")
    n.phi(f, "NAME")
    n.add(f" reports {r.choice(CLINICAL)}.\n")
    c = r.choice(CITIES)
    n.add("Social: lives at ")
    n.phi(f"{r.randint(1, 999)} {r.choice(STREETS)}, {c[0]}, {c[1]} {c[2]}", "ADDRESS")
    n.add(". Phone ")
    if r.random() < 0.5:
        n.phi(f"{r.randint(200, 999)}-{r.randint(1000, 9999)}", "PHONE")
    else:
        n.phi(f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}", "PHONE")
    n.add(".\nAcct #: ")
    n.phi(f"{r.randint(10, 99)}-{r.randint(100, 999)}-{r.randint(10, 99)}", "ID")
    n.add(f"\n\nPlan: follow up in clinic.\n\n")
    sig = r.randrange(3)
    if sig == 0:
        n.phi(f"{dg} {r.choice('ABCDEFGHJKLMNPRSTW')}. {df}", "NAME")
        n.add(f", {r.choice(CREDENTIALS)}\n")
    elif sig == 1:
        n.add("Electronically signed by: ")
        n.phi(f"{dg} {df}", "NAME")
        n.add(f", {r.choice(CREDENTIALS)} on ")
        n.phi(date_full(r), "DATE")
        n.add("\n")
    else:
        n.add("Dictated by: Dr. ")
        n.phi(f"{dg} {df}", "NAME")
        n.add("\n")
    return n


def person(r, caps=False):
    g = r.choice(GIVEN + RARE_GIVEN)
    f = r.choice(FAMILY + RARE_FAMILY)
    return (g.upper(), f.upper()) if caps else (g, f)


def note_b(r):
    """A dictated discharge letter: the forms the first template lacks (signatures and names in
    capitals, relatives by name, pagers and extensions, job and unit numbers, hospitals in capitals,
    dates without a year, professions and cities)."""
    n = Note()
    g, f = person(r, caps=True)
    n.add("Record date: ")
    n.phi(date_full(r), "DATE")
    n.add("\n\n")
    n.phi(f"{f}, {g}", "NAME")
    n.add(r.choice([" (MRN ", "\nUnit No: ", "\nMRN "]))
    n.phi(r.choice([f"{r.randint(1000000, 9999999)}", f"{r.randint(100, 999)}-{r.randint(10, 99)}-{r.randint(10, 99)}"]),
          "ID")
    n.add(")\n" if n.text[-(len(n.ents[-1]["text"]) + 6):].startswith(" (MRN ") else "\n")
    n.add("\nThe patient was admitted to ")
    n.phi(f"{r.choice(PLACE_WORDS)} {r.choice(FACILITY_WORDS)}", "LOCATION")
    n.add(" on ")
    day = r.randint(1, 28)
    suffix = r.choice(["", {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th")])
    n.phi(r.choice([f"{r.choice(MONTHS)} {day}{suffix}", f"{r.randint(1, 12)}/{day}"]), "DATE")
    n.add(f" with {r.choice(CLINICAL)}. ")
    rel, (rg, _) = r.choice(RELATIVES), person(r)
    n.add(f"{r.choice(['His', 'Her'])} {rel} ")
    if r.random() < 0.5:
        n.add("(")
        n.phi(rg, "NAME")
        n.add(") was at the bedside")
    else:
        n.phi(rg, "NAME")
        n.add(" was at the bedside")
    n.add(". ")
    if r.random() < 0.5:
        n.add("The patient works as a ")
        n.phi(r.choice(PROFESSIONS), "PROFESSION")
        n.add(" and lives in ")
    else:
        n.add("Lives in ")
    n.phi(r.choice(CITIES)[0], "LOCATION")
    n.add(". Followed here since ")
    n.phi(f"'{r.randint(70, 99)}", "DATE")
    n.add(". Please page with questions, ")
    kind = r.randrange(3)
    if kind == 0:
        n.add("pager #")
        n.phi(str(r.randint(10000, 99999)), "PHONE")
    elif kind == 1:
        n.add("call ")
        n.phi(f"x{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")
    else:
        n.add("beeper ")
        n.phi(str(r.randint(1000, 9999)), "PHONE")
    n.add(".\n\n")
    dg, df = person(r, caps=r.random() < 0.5)
    n.add(r.choice(["DICTATED BY: ", "Dictated by: ", "Signed: "]))
    n.phi(f"{dg} {r.choice('ABCDEFGHJKLMNPRSTW')}. {df}", "NAME")
    n.add(f", {r.choice(CREDENTIALS)}\n")
    n.add("DD: ")
    n.phi(f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(10, 99)}", "DATE")
    n.add("\nJOB #: ")
    n.phi(str(r.randint(1000, 99999)), "ID")
    n.add("\ncc: ")
    cg, cf = person(r)
    n.phi(f"{cg} {cf}", "NAME")
    n.add(f", {r.choice(CREDENTIALS)}\n")
    return n


def note_c(r):
    """An emergency or clinic visit as a record system exports it: the forms the other templates
    lack (a caret-delimited header with a visit number, the care team by role, practices, titled
    hyphenated names, the patient's home and household, "a retired ...", pagers written "#4-7781",
    the dictation's initials)."""
    n = Note()
    g, f = person(r, caps=True)
    n.add("EDVISIT^")
    n.phi(str(r.randint(10000000, 99999999)), "ID")
    n.add("^")
    n.phi(f"{f}, {g}", "NAME")
    n.add("^")
    n.phi(f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(10, 99)}", "DATE")
    n.add("^")
    ag, af = person(r, caps=True)
    n.phi(f"{af}, {ag}", "NAME")
    n.add(f"\n\nThe patient presents with {r.choice(CLINICAL)}. ")
    rg, rf = person(r)
    n.add(f"Seen with {r.choice(ROLES)} ")
    n.phi(f"{rg} {rf}", "NAME")
    n.add(". Primary care at ")
    n.phi(f"{r.choice(PRACTICE_PLACES)} {r.choice(PRACTICE_WORDS)}", "LOCATION")
    n.add(f". {r.choice(['She', 'He'])} is a ")
    n.phi(f"retired {r.choice(['schoolteacher', 'mail carrier', 'machinist', 'pharmacist', 'engineer'])}", "PROFESSION")
    rel = r.choice(["husband", "wife", "daughter", "son", "partner"])
    hg, _ = person(r)
    n.add(f" who lives with {r.choice(['her', 'his'])} {rel} ")
    n.phi(hg, "NAME")
    n.add(" in ")
    n.phi(r.choice(HOME_TOWNS), "LOCATION")
    n.add(".\nFollow up with Dr. ")
    n.phi(r.choice(["Chen-Watanabe", "McAllister", "O'Donnell", "Okafor-Reyes", "DeLuca", r.choice(RARE_FAMILY)]), "NAME")
    n.add(f" in {r.randint(1, 6)} weeks. Questions: pager #")
    n.phi(f"{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")
    n.add(".\n______________________\n")
    sg, sf = person(r)
    n.phi(f"{sg} {r.choice('ABCDEFGHJKLMNPRSTW')}. {sf}", "NAME")
    n.add(", M.D.\n")
    n.phi(f"{sg[0]}{sf[0]}/{r.choice('abcdefghjkmnprstw')}{r.choice('abcdefghjkmnprstw')}", "NAME")
    n.add("  DD: ")
    n.phi(f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(10, 99)}", "DATE")
    n.add("\n")
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="data/eval/phi", help="writes <out>.jsonl and <out>.gold.jsonl")
    ap.add_argument("--notes", type=int, default=120)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    r = random.Random(a.seed)
    with open(a.out + ".jsonl", "w") as notes, open(a.out + ".gold.jsonl", "w") as gold:
        for i in range(a.notes):
            n = (note, note_b, note_c)[i % 3](r)
            notes.write(json.dumps({"id": f"phi-{i}", "text": n.text}) + "\n")
            gold.write(json.dumps({"id": f"phi-{i}", "entities": n.ents}) + "\n")
    print(f"{a.notes} notes in {a.out}.jsonl, gold in {a.out}.gold.jsonl")


if __name__ == "__main__":
    main()
