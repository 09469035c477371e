"""Clause types of the demo corpus: sentence templates with slots, plus shared boilerplate.

Data only. Slots: {a}/{b} parties ({A}/{B} upper case), {d} short period, {y} long period, {m}/{M} amount,
{j} jurisdiction, {c} city, {s} cross-reference, {ts} titled cross-reference, {t}/{T} subject
matter, {org} arbitral body. "[x|y]" picks one alternative (never nested).

Each type has "core" sentences and borrows sentences from neighbours (`OVERLAP`), as real
provisions do: a dispute-resolution clause names the governing law, a limitation-of-liability
clause carves out indemnities. `DRIFT*` is a second drafting style (UK, data-protection era)
used to simulate a shifted slice.
"""

PARTIES = [
    ("the Company", "the Consultant"),
    ("Licensor", "Licensee"),
    ("the Seller", "the Buyer"),
    ("the Provider", "the Client"),
    ("Distributor", "Manufacturer"),
    ("the Employer", "the Executive"),
    ("Landlord", "Tenant"),
    ("the Disclosing Party", "the Receiving Party"),
    ("Vendor", "Customer"),
    ("the Contractor", "the Owner"),
    ("Service Provider", "Company"),
]
# Pairs whose names fix their roles (the templates' {b} receives), so they are never swapped.
FIXED_ROLES = {("the Disclosing Party", "the Receiving Party"), ("the Controller", "the Processor")}
DURATIONS = [
    "thirty (30) days",
    "sixty (60) days",
    "ninety (90) days",
    "ten (10) business days",
    "fifteen (15) days",
    "forty-five (45) days",
    "five (5) business days",
]
TERMS = [
    "one (1) year",
    "two (2) years",
    "three (3) years",
    "six (6) months",
    "twelve (12) months",
    "eighteen (18) months",
    "five (5) years",
    "twenty-four (24) months",
]
AMOUNTS = [
    "$50,000",
    "$100,000",
    "$250,000",
    "$1,000,000",
    "$5,000,000",
    "two times (2x) the annual fees",
    "the fees paid in the twelve (12) months preceding the claim",
    "the total amount paid under this Agreement",
]
JURISDICTIONS = [
    "the State of New York",
    "the State of Delaware",
    "the State of California",
    "England and Wales",
    "the Province of Ontario",
    "the State of Texas",
    "the Commonwealth of Massachusetts",
    "the State of Illinois",
    "the State of Washington",
]
CITIES = [
    "New York, New York",
    "Wilmington, Delaware",
    "San Francisco, California",
    "London",
    "Toronto",
    "Austin, Texas",
    "Chicago, Illinois",
    "Boston, Massachusetts",
    "Seattle, Washington",
]
SECTIONS = [
    "Section 2.1",
    "Section 4.3",
    "Section 7",
    "Section 8.4",
    "Section 9.2",
    "Section 10.1",
    "Section 11.4",
    "Section 12.3",
    "Section 14",
    "Article V",
    "Article IX",
    "Exhibit B",
    "Schedule 1",
]
SUBJECTS = [
    "the Services",
    "the Products",
    "the Deliverables",
    "the Software",
    "the Licensed Materials",
    "the Work Product",
    "the Equipment",
    "the Platform",
]
ARBITRAL_BODIES = [
    "the American Arbitration Association",
    "JAMS",
    "the International Chamber of Commerce",
    "the International Centre for Dispute Resolution",
]
# Titles for cross-references such as "Section 9.2 (Indemnification)": they name other types.
TITLES = [
    "Confidentiality",
    "Governing Law",
    "Dispute Resolution",
    "Term and Termination",
    "Indemnification",
    "Limitation of Liability",
    "Fees and Payment",
    "Assignment",
    "Force Majeure",
    "Warranties",
    "Intellectual Property",
    "Non-Solicitation",
    "Insurance",
    "Notices",
]

OPENERS = [
    "Notwithstanding anything to the contrary herein,",
    "Except as otherwise provided in this Agreement,",
    "Subject to {s},",
    "Subject to {ts},",
    "For the avoidance of doubt,",
    "To the extent permitted by applicable law,",
    "Unless otherwise agreed in writing by the parties,",
    "Without limiting the generality of the foregoing,",
    "In accordance with {s},",
    "Except as set forth in {ts},",
    "Without prejudice to {ts},",
    "Notwithstanding {ts},",
    "During the term of this Agreement,",
    "Except as expressly provided herein,",
]
CLOSERS = [
    "The provisions of this {s} shall survive any termination or expiration of this Agreement.",
    "This {s} shall not limit any other rights or remedies available to either party.",
    "The parties acknowledge that this {s} has been specifically negotiated.",
    "Capitalized terms used in this {s} have the meanings given in Section 1.",
    "For the avoidance of doubt, nothing in this {s} shall limit {ts}.",
    "This {s} shall be read together with {ts}.",
    "Any notice under this {s} shall be given in accordance with {ts}.",
    "The rights of {a} under this {s} are cumulative and in addition to any other rights at law or in equity.",
]

CORE = {
    "confidentiality": [
        (
            "{b} shall hold all Confidential Information of {a} in strict confidence and shall not disclose it to "
            "any third party [without the prior written consent of {a}|except as expressly permitted herein]."
        ),
        (
            "{b} shall use the Confidential Information [solely|only] for the purpose of [performing its "
            "obligations under this Agreement|evaluating the Proposed Transaction|providing {t}]."
        ),
        (
            "Confidential Information does not include information that (i) is or becomes generally available to "
            "the public other than through a breach by {b}, (ii) was known to {b} prior to disclosure, or (iii) is "
            "independently developed by {b} without use of the Confidential Information."
        ),
        (
            "Upon [request|termination of this Agreement], {b} shall promptly return or destroy all Confidential "
            "Information of {a} and certify such destruction in writing."
        ),
        (
            "{b} may disclose Confidential Information to the extent required by law or court order, provided that "
            "{b} gives {a} prompt written notice and reasonable assistance in seeking a protective order."
        ),
        (
            "The obligations [of confidentiality|set forth in this {s}] shall continue for a period of {y} "
            "following the [termination|expiration] of this Agreement."
        ),
        (
            '"Confidential Information" means all non-public business, technical and financial information '
            "disclosed by {a} to {b}, whether orally or in writing, that is designated as confidential or that "
            "reasonably should be understood to be confidential."
        ),
        (
            "{b} shall limit access to Confidential Information to those of its employees, agents and advisors who "
            "have a need to know and who are bound by written obligations of confidentiality no less protective "
            "than those herein."
        ),
        (
            "{b} shall protect the Confidential Information using at least the same degree of care it uses for its "
            "own confidential information, but in no event less than reasonable care."
        ),
        "Trade secrets shall remain confidential for so long as they qualify as trade secrets under applicable law.",
        "The terms of this Agreement shall be treated as Confidential Information of both parties.",
        (
            "{b} acknowledges that unauthorized disclosure of Confidential Information may cause irreparable harm "
            "for which monetary damages would be an inadequate remedy, and that {a} shall be entitled to seek "
            "injunctive relief."
        ),
        "All such information shall be kept strictly confidential.",
        "{b} shall not make copies of the Confidential Information except as reasonably necessary for the Purpose.",
        (
            "{b} shall notify {a} promptly upon discovery of any unauthorized use or disclosure of Confidential "
            "Information."
        ),
    ],
    "governing_law": [
        (
            "This Agreement shall be governed by and construed in accordance with the laws of {j}, without regard "
            "to its conflict of laws [principles|rules]."
        ),
        "The laws of {j} shall govern the validity, interpretation and performance of this Agreement.",
        (
            "This Agreement and any claim, controversy or dispute arising out of or related to it shall be "
            "governed by the internal laws of {j}."
        ),
        (
            "The United Nations Convention on Contracts for the International Sale of Goods shall not apply to "
            "this Agreement."
        ),
        "This Agreement is governed by the laws of {j}.",
        (
            "The parties agree that the substantive law of {j} applies, excluding any choice of law rule that "
            "would require the application of the laws of another jurisdiction."
        ),
        (
            "The Uniform Computer Information Transactions Act, as enacted in any jurisdiction, shall not apply to "
            "this Agreement."
        ),
        (
            "All matters relating to the formation, validity and effect of this Agreement, including any "
            "non-contractual obligations, shall be determined under the laws of {j}."
        ),
        (
            "Each party waives any claim that the laws of any other jurisdiction should apply to the "
            "interpretation of this Agreement."
        ),
        "This Agreement shall be deemed to have been made in, and shall be construed under, the laws of {j}.",
        (
            "If any provision of the chosen law would invalidate a term of this Agreement, such term shall be "
            "construed to the maximum extent enforceable under the laws of {j}."
        ),
        (
            "The rights and obligations of {a} and {b} under this Agreement shall be governed exclusively by the "
            "laws of {j}."
        ),
    ],
    "dispute_resolution": [
        (
            "Any dispute arising out of or relating to this Agreement shall be finally settled by binding "
            "arbitration administered by {org} in accordance with its [Commercial Arbitration Rules|rules then in "
            "effect]."
        ),
        (
            "The arbitration shall be conducted in {c} before [a single arbitrator|a panel of three (3) "
            "arbitrators], and judgment on the award may be entered in any court of competent jurisdiction."
        ),
        (
            "The parties shall first attempt in good faith to resolve any dispute through negotiation between "
            "senior executives for a period of {d}."
        ),
        (
            "Each party irrevocably submits to the exclusive jurisdiction of the state and federal courts located "
            "in {c} [and waives any objection based on inconvenient forum|for any action arising out of this "
            "Agreement]."
        ),
        (
            "If the dispute is not resolved by negotiation within {d}, either party may submit it to non-binding "
            "mediation before commencing [litigation|arbitration]."
        ),
        (
            "EACH PARTY HEREBY [IRREVOCABLY |]WAIVES ITS RIGHT TO A TRIAL BY JURY IN ANY ACTION ARISING OUT OF OR "
            "RELATING TO THIS AGREEMENT."
        ),
        (
            "The arbitrator shall have no authority to award punitive or exemplary damages[ or to modify any term "
            "of this Agreement|]."
        ),
        (
            "Nothing in this {s} shall prevent either party from seeking injunctive or other equitable relief from "
            "a court of competent jurisdiction."
        ),
        (
            "The prevailing party in any arbitration or litigation shall be entitled to recover its reasonable "
            "attorneys' fees and costs."
        ),
        (
            "Any claim must be brought on an individual basis and not as a plaintiff or class member in any "
            "purported class or representative proceeding."
        ),
        (
            "The arbitration proceedings and any award shall be kept confidential, except as required to enforce "
            "the award."
        ),
        "Disputes shall be resolved by arbitration in {c}.",
        (
            "Either party may initiate the dispute resolution procedure by giving written notice describing the "
            "dispute in reasonable detail."
        ),
        "The arbitration shall be conducted in the English language.",
    ],
    "termination": [
        "Either party may terminate this Agreement [for any reason |]upon {d} prior written notice to the other party.",
        (
            "{a} may terminate this Agreement immediately if {b} materially breaches this Agreement and fails to "
            "cure such breach within {d} after receipt of written notice."
        ),
        (
            "This Agreement shall terminate automatically if either party becomes insolvent, files a petition in "
            "bankruptcy or makes an assignment for the benefit of creditors."
        ),
        "Upon termination, {b} shall pay all amounts accrued and unpaid as of the effective date of termination.",
        (
            "Termination of this Agreement shall not relieve either party of obligations incurred prior to "
            "[termination|the effective date of termination]."
        ),
        (
            "This Agreement shall commence on the Effective Date and continue for an initial term of {y}, and "
            "shall renew automatically for successive renewal terms of {y} unless either party gives notice of "
            "non-renewal."
        ),
        (
            "Upon expiration or termination of this Agreement, all licenses granted hereunder shall immediately "
            "terminate and {b} shall cease all use of {t}."
        ),
        "Either party may terminate for material breach.",
        (
            "{a} may suspend performance or terminate this Agreement if {b} fails to pay any undisputed amount "
            "within {d} after it becomes due."
        ),
        "Sections 5, 8 and 11 shall survive any expiration or termination of this Agreement.",
        "{a} may terminate this Agreement upon written notice in the event of a change of control of {b}.",
        "Within {d} after termination, each party shall return all property of the other party in its possession.",
        (
            "The term of this Agreement shall expire on the date that is {y} after the Effective Date, unless "
            "earlier terminated as provided herein."
        ),
    ],
    "indemnification": [
        (
            "{b} shall indemnify, defend and hold harmless {a} and its [officers, directors and "
            "employees|affiliates, officers, agents and employees] from and against any and all [losses, damages, "
            "liabilities and expenses|claims, losses, liabilities, costs and expenses] arising out of [any breach "
            "of this Agreement by {b}|the negligence or willful misconduct of {b}|any third-party claim relating "
            "to {t}]."
        ),
        (
            "The indemnifying party shall have the right to control the defense and settlement of any claim, "
            "provided that it shall not settle any claim without the prior written consent of the indemnified "
            "party, which shall not be unreasonably withheld."
        ),
        (
            "{a} shall promptly notify {b} in writing of any third-party claim for which indemnification is "
            "sought, provided that any delay in notice shall relieve {b} of its obligations only to the extent it "
            "is prejudiced thereby."
        ),
        (
            "{b} shall defend any claim that any part of {t} infringes a third party's patent, copyright or "
            "trademark and pay any damages finally awarded."
        ),
        (
            "{b} shall reimburse {a} for reasonable attorneys' fees and costs incurred in connection with any "
            "indemnified claim."
        ),
        (
            "The indemnified party may participate in the defense of any claim with counsel of its own choosing at "
            "its own expense."
        ),
        (
            "{b} shall have no indemnification obligation for claims arising from modifications made by {a} or "
            "from use of {t} in combination with products not supplied by {b}."
        ),
        "{b} shall indemnify {a} against all third-party claims.",
        (
            "This {s} states the entire liability of {b} and the exclusive remedy of {a} with respect to any "
            "third-party infringement claim."
        ),
        (
            "Each party shall indemnify the other against any claims for bodily injury, death or damage to "
            "tangible property caused by its negligence."
        ),
        "{a} shall cooperate with {b} in the defense of any indemnified claim at {b}'s expense.",
        (
            "If any part of {t} becomes the subject of an infringement claim, {b} may procure the right for {a} to "
            "continue using it, modify it to be non-infringing, or refund the fees paid."
        ),
    ],
    "limitation_of_liability": [
        (
            "IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR ANY INDIRECT, INCIDENTAL, SPECIAL, CONSEQUENTIAL[, "
            "EXEMPLARY|] OR PUNITIVE DAMAGES, INCLUDING LOSS OF PROFITS, REVENUE OR GOODWILL."
        ),
        "The aggregate liability of {a} arising out of or relating to this Agreement shall not exceed {m}.",
        (
            "IN NO EVENT SHALL {A} BE LIABLE FOR LOST PROFITS OR LOSS OF DATA, EVEN IF ADVISED OF THE POSSIBILITY "
            "OF SUCH DAMAGES."
        ),
        (
            "The limitations in this {s} shall not apply to breaches of confidentiality, a party's indemnification "
            "obligations, or its gross negligence or willful misconduct."
        ),
        (
            "Neither party shall be liable for damages in excess of {m}, whether in contract, tort [(including "
            "negligence) |]or otherwise."
        ),
        "{A}'S TOTAL CUMULATIVE LIABILITY UNDER THIS AGREEMENT SHALL NOT EXCEED {M}.",
        "Liability is capped at {m}.",
        (
            "The parties agree that the limitations of liability set forth herein are an essential element of the "
            "bargain between them."
        ),
        (
            "No action arising out of this Agreement may be brought by either party more than {y} after the cause "
            "of action has accrued."
        ),
        "THE FOREGOING LIMITATIONS SHALL APPLY NOTWITHSTANDING THE FAILURE OF ESSENTIAL PURPOSE OF ANY LIMITED REMEDY.",
        (
            "{a} shall have no liability for any damages resulting from {b}'s failure to maintain adequate backups "
            "of its data."
        ),
        (
            "Nothing in this Agreement shall limit or exclude liability for death or personal injury caused by "
            "negligence or for fraud."
        ),
        (
            "The liability of {a} for any claim shall be limited to the amount of fees paid by {b} in the twelve "
            "(12) months preceding the event giving rise to the claim."
        ),
    ],
    "payment_terms": [
        "{b} shall pay all undisputed invoices within {d} of receipt.",
        (
            "All fees are exclusive of taxes, and {b} shall be responsible for all sales, use, excise and value "
            "added taxes, other than taxes based on {a}'s net income."
        ),
        (
            "Late payments shall bear interest at the rate of [one and one-half percent (1.5%)|one percent (1%)] "
            "per month or the maximum rate permitted by law, whichever is less."
        ),
        "{a} shall invoice {b} [monthly|quarterly] in arrears for {t} provided during the preceding [month|quarter].",
        "{b} shall pay {a} a [one-time|non-refundable] fee of {m} upon execution of this Agreement.",
        "All payments shall be made in United States dollars by wire transfer to the account designated by {a}.",
        "Payment is due within {d} of invoice.",
        (
            "If {b} disputes any invoice in good faith, it shall notify {a} of the disputed amount within {d} and "
            "pay the undisputed portion."
        ),
        (
            "{b} shall reimburse {a} for reasonable, pre-approved travel and out-of-pocket expenses incurred in "
            "providing {t}."
        ),
        (
            "{a} may increase the fees once per contract year by no more than five percent (5%) upon {d} prior "
            "written notice."
        ),
        "{b} may not set off any amount owed by {a} against amounts payable under this Agreement.",
        (
            "If {b} is required by law to withhold any taxes, it shall gross up the payment so that {a} receives "
            "the full amount invoiced."
        ),
        "All fees paid are non-refundable except as expressly provided herein.",
    ],
    "assignment": [
        (
            "Neither party may assign or transfer this Agreement[, by operation of law or otherwise,|] without the "
            "prior written consent of the other party."
        ),
        (
            "{a} may assign this Agreement without consent to an affiliate or to a successor in connection with a "
            "merger, acquisition or sale of all or substantially all of its assets."
        ),
        "Any attempted assignment in violation of this {s} shall be null and void.",
        (
            "This Agreement shall be binding upon and inure to the benefit of the parties and their respective "
            "successors and permitted assigns."
        ),
        (
            "{b} shall not subcontract any of its obligations without the prior written consent of {a}, and shall "
            "remain responsible for the acts of its subcontractors."
        ),
        "{b} may not assign this Agreement.",
        "A change of control of {b} shall be deemed an assignment for purposes of this {s}.",
        "Consent to assignment shall not be unreasonably withheld, conditioned or delayed.",
        (
            "{a} may delegate the performance of {t} to qualified third parties, provided that it remains liable "
            "for such performance."
        ),
        "The assignee shall agree in writing to be bound by all terms and conditions of this Agreement.",
        "{b} may grant a security interest in its rights to payment hereunder to its lenders without consent.",
        (
            "Nothing in this Agreement shall confer any rights upon any person other than the parties and their "
            "respective successors and permitted assigns."
        ),
    ],
    "force_majeure": [
        (
            "Neither party shall be liable for any failure or delay in performance [caused by|resulting from] "
            "events beyond its reasonable control, including acts of God, war, terrorism, strikes, fire, flood, "
            "earthquake or epidemic."
        ),
        (
            "The affected party shall give prompt written notice of the force majeure event and use commercially "
            "reasonable efforts to resume performance as soon as practicable."
        ),
        (
            "If a force majeure event continues for more than {d}, either party may terminate this Agreement upon "
            "written notice."
        ),
        "Obligations to pay money shall not be excused by a force majeure event.",
        "Neither party is liable for delays caused by force majeure.",
        "The time for performance shall be extended for a period equal to the duration of the force majeure event.",
        (
            "A force majeure event shall include governmental action, embargo, pandemic, labor disputes, and "
            "failures of public utilities or telecommunications networks."
        ),
        (
            "{a} shall not be responsible for any delay in delivery of {t} caused by circumstances beyond its "
            "control, including shortages of materials or transportation."
        ),
        (
            "During a force majeure event, {a} may allocate available supply among its customers in a fair and "
            "reasonable manner."
        ),
        (
            "The affected party shall not be excused to the extent the delay results from its own negligence or "
            "failure to implement reasonable business continuity plans."
        ),
    ],
    "warranties": [
        (
            "{a} represents and warrants that {t} will be [performed|provided] in a professional and workmanlike "
            "manner consistent with generally accepted industry standards."
        ),
        (
            "{a} warrants that the products will be free from defects in materials and workmanship for a period of "
            "{y} from delivery."
        ),
        (
            "EXCEPT AS EXPRESSLY SET FORTH HEREIN, {A} MAKES NO OTHER WARRANTIES, EXPRESS OR IMPLIED, INCLUDING "
            "ANY IMPLIED WARRANTY OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE OR NON-INFRINGEMENT."
        ),
        (
            "Each party represents and warrants that it has full power and authority to enter into and perform "
            "this Agreement."
        ),
        (
            "{b}'s sole and exclusive remedy for breach of this warranty shall be the repair or replacement of the "
            "nonconforming product or a refund of the fees paid."
        ),
        '{A} PROVIDES {T} "AS IS" WITHOUT WARRANTY OF ANY KIND.',
        "{a} warrants that {t} will not contain any virus, trojan horse or other malicious code.",
        "{a} represents that its performance hereunder will comply with all applicable laws and regulations.",
        "{a} does not warrant that the operation of {t} will be uninterrupted or error-free.",
        (
            "The warranties in this {s} shall not apply to defects resulting from misuse, accident, or "
            "modification by anyone other than {a}."
        ),
        "{b} must notify {a} of any warranty claim within {d} after discovery of the defect.",
        (
            "Each party represents that the execution of this Agreement does not conflict with any other agreement "
            "to which it is a party."
        ),
    ],
    "intellectual_property": [
        "All intellectual property rights in {t} shall vest in and remain the exclusive property of {a}.",
        (
            "{b} hereby assigns to {a} all right, title and interest in any inventions, works of authorship and "
            "developments created under this Agreement."
        ),
        (
            "{a} grants {b} a non-exclusive, non-transferable, revocable license to use {t} solely for its "
            "internal business purposes during the term."
        ),
        (
            "Nothing in this Agreement shall be construed as granting any license under any patent, copyright or "
            "trademark of {a} except as expressly provided herein."
        ),
        "{b} shall not reverse engineer, decompile or disassemble any software provided by {a}.",
        "{a} retains all rights in its pre-existing materials.",
        "All deliverables shall be deemed works made for hire to the extent permitted by law.",
        "{b} shall not remove or alter any copyright notice, trademark or other proprietary marking on {t}.",
        "Any feedback or suggestions provided by {b} may be used by {a} without restriction or obligation.",
        "{a} reserves all rights not expressly granted to {b} under this Agreement.",
        (
            "{b} shall execute such further documents as reasonably necessary to perfect {a}'s ownership of the "
            "developments."
        ),
        (
            "{b} may use {a}'s trademarks solely in accordance with {a}'s trademark usage guidelines as updated "
            "from time to time."
        ),
        (
            "Each party shall retain ownership of its background technology, and no rights in such technology "
            "shall transfer by implication or estoppel."
        ),
    ],
    "non_solicitation": [
        (
            "During the term of this Agreement and for {y} thereafter, {b} shall not [solicit for employment|hire "
            "or attempt to hire] any employee of {a}."
        ),
        (
            "{b} shall not, directly or indirectly, solicit or induce any customer, supplier or business partner "
            "of {a} to terminate or adversely modify its relationship with {a}."
        ),
        (
            "The restrictions in this {s} shall not apply to general solicitations of employment, such as job "
            "advertisements, not specifically directed at employees of {a}."
        ),
        (
            "{b} acknowledges that the restrictive covenants in this {s} are reasonable in scope, geography and "
            "duration and necessary to protect {a}'s legitimate business interests."
        ),
        "Neither party shall solicit the other's personnel.",
        (
            "If {b} hires an employee of {a} in breach of this {s}, {b} shall pay {a} a placement fee equal to "
            "[fifty percent (50%)|one hundred percent (100%)] of such employee's annual compensation."
        ),
        (
            "For {y} following the termination of this Agreement, {b} shall not engage in any business that "
            "competes with {a} within a radius of fifty (50) miles."
        ),
        (
            "If any restriction in this {s} is found unenforceable, the court may reduce its scope to the extent "
            "necessary to render it enforceable."
        ),
        "The non-solicitation obligations shall survive termination of this Agreement for a period of {y}.",
        "{b} shall not encourage any consultant or contractor of {a} to cease providing services to {a}.",
    ],
}

# Sentences of a neighbouring type that show up inside a provision: the realistic overlap.
OVERLAP = {
    "governing_law": ["dispute_resolution"],
    "dispute_resolution": ["governing_law", "confidentiality"],
    "indemnification": ["limitation_of_liability", "intellectual_property"],
    "limitation_of_liability": ["indemnification", "warranties"],
    "termination": ["force_majeure", "payment_terms", "assignment"],
    "force_majeure": ["termination"],
    "confidentiality": ["intellectual_property", "termination"],
    "intellectual_property": ["confidentiality", "warranties", "indemnification"],
    "warranties": ["limitation_of_liability", "intellectual_property"],
    "non_solicitation": ["confidentiality", "termination"],
    "payment_terms": ["termination"],
    "assignment": ["termination", "intellectual_property"],
}

# Relative frequencies: a long tail, as in contracts (largest about 3.5x the smallest).
WEIGHTS = {
    "confidentiality": 14,
    "termination": 13,
    "limitation_of_liability": 11,
    "governing_law": 11,
    "indemnification": 10,
    "payment_terms": 9,
    "assignment": 8,
    "warranties": 8,
    "intellectual_property": 7,
    "dispute_resolution": 6,
    "force_majeure": 5,
    "non_solicitation": 4,
}

# --- the shifted style for drift simulation (UK / data-protection-era drafting, new parties) ---
DRIFT_PARTIES = [
    ("the Supplier", "the Customer"),
    ("the Authority", "the Contractor"),
    ("the Controller", "the Processor"),
    ("the Supplier", "the Buyer"),
]
DRIFT_DURATIONS = [
    "thirty (30) Working Days",
    "ten (10) Working Days",
    "twenty (20) Working Days",
    "one (1) month",
    "three (3) months",
]
DRIFT_TERMS = ["six (6) months", "twelve (12) months", "two (2) years", "eighteen (18) months"]
DRIFT_AMOUNTS = [
    "\u00a3500,000",
    "\u00a31,000,000",
    "125% of the Charges",
    "the Charges paid in the preceding Contract Year",
]
DRIFT_SECTIONS = ["Clause 14.2", "Clause 9", "Clause 22.1", "Clause 31", "Schedule 3", "paragraph 4 of Schedule 2"]
DRIFT_SUBJECTS = ["the Services", "the Deliverables", "the Goods", "the Supplier Solution"]
DRIFT_TITLES = [
    "Data Protection",
    "Liability",
    "Exit Management",
    "Dispute Resolution Procedure",
    "Termination Rights",
    "Confidentiality",
    "Charges and Invoicing",
]

DRIFT_OPENERS = [
    "Whilst this Contract subsists,",
    "Save as otherwise provided in this Contract,",
    "Without prejudice to {ts},",
    "Subject always to {s},",
    "For the avoidance of doubt,",
    "Notwithstanding any other provision of this Contract,",
    "Save where {a} agrees otherwise in writing,",
]
DRIFT_CLOSERS = [
    "This Clause shall survive the expiry or termination of this Contract howsoever arising.",
    "The provisions of this Clause are without prejudice to any other rights or remedies of {a}.",
    "Any notice under this Clause shall be served in accordance with {ts}.",
]
# Data-protection boilerplate that such contracts sprinkle into every kind of provision.
DRIFT_SHARED = [
    (
        "Each party shall, whilst this Contract subsists, comply with its obligations as a data controller under "
        "the Data Protection Legislation."
    ),
    "Where {b} processes personal data as a data processor, it shall do so only on the documented instructions of {a}.",
    "Terms such as personal data, data controller and data subject have the meanings given in the UK GDPR.",
    "{b} shall not transfer any personal data outside the United Kingdom without the prior written consent of {a}.",
    "{b} shall notify {a} without undue delay on becoming aware of a personal data breach.",
]
DRIFT = {
    "confidentiality": [
        (
            "whilst processing personal data on behalf of {a}, {b} shall act only on documented instructions and "
            "keep such data secure."
        ),
        (
            "{b} shall ensure that persons authorised to process the personal data have committed themselves to "
            "confidentiality."
        ),
        (
            "each party shall comply with the UK GDPR and the Data Protection Act 2018 in respect of any personal "
            "data shared under this Contract."
        ),
        (
            "neither party shall disclose any Confidential Information of the other save to its Staff who need to "
            "know it for the purposes of this Contract."
        ),
        (
            "{b} shall not publicise this Contract or its terms without the prior written approval of {a}, whilst "
            "it remains in force or thereafter."
        ),
        (
            "information shall cease to be confidential if it enters the public domain otherwise than by breach of "
            "this Clause."
        ),
    ],
    "termination": [
        "{a} may terminate this Contract for convenience by giving not less than {d} notice in writing.",
        (
            "either party may end this Contract forthwith by notice if the other enters administration, "
            "receivership or liquidation."
        ),
        (
            "on expiry or early termination, {b} shall co-operate in the orderly handover of {t} to any "
            "replacement supplier."
        ),
        (
            "{a} may terminate this Contract with immediate effect if {b} commits a material Default which is "
            "irremediable."
        ),
        "termination for convenience shall not entitle {b} to any compensation for loss of anticipated profits.",
        "the Exit Plan set out in Schedule 8 shall apply on termination howsoever arising.",
    ],
    "dispute_resolution": [
        (
            "any dispute shall be referred to an independent tribunal seated in London whose determination shall "
            "be final and binding."
        ),
        (
            "the parties shall attempt to settle any dispute by escalation to their respective Contract Managers, "
            "whilst continuing to perform their obligations."
        ),
        (
            "failing resolution within {d}, the dispute shall be referred to mediation under the CEDR Model "
            "Mediation Procedure."
        ),
        (
            "the seat of the arbitration shall be London and the tribunal shall consist of one arbitrator "
            "appointed under the LCIA Rules."
        ),
        (
            "the English courts shall have exclusive jurisdiction to settle any dispute which is not resolved by "
            "the Dispute Resolution Procedure."
        ),
        (
            "either party may refer a technical dispute to an Expert whose decision, save for manifest error, "
            "shall be binding."
        ),
    ],
    "governing_law": [
        (
            "this Contract and any non-contractual obligations arising out of or in connection with it shall be "
            "governed by English law."
        ),
        "this Contract shall be construed in accordance with the law of England and Wales.",
        (
            "where {a} is a Scottish contracting authority, this Contract shall instead be governed by the law of "
            "Scotland."
        ),
        (
            "the Contracts (Rights of Third Parties) Act 1999 shall not apply, and this Contract shall be "
            "interpreted under the law of England and Wales."
        ),
        (
            "any question regarding the existence, validity or termination of this Contract shall be determined "
            "according to English law."
        ),
    ],
    "limitation_of_liability": [
        (
            "the total liability of {a}, whether in contract, tort (including negligence), breach of statutory "
            "duty or otherwise, shall be capped at {m}."
        ),
        (
            "nothing in this Contract limits either party's liability for death or personal injury caused by "
            "negligence, or for fraud or fraudulent misrepresentation."
        ),
        (
            "neither party shall be liable for any loss of profits, revenue, savings or goodwill, whether direct "
            "or indirect."
        ),
        (
            "{b}'s liability for loss or corruption of personal data shall be limited to the cost of restoring "
            "such data from the latest back-up."
        ),
        "each party shall take reasonable steps to mitigate any loss for which it seeks to recover from the other.",
        (
            "the liability caps in this Clause shall not apply to losses arising from a breach of the Data "
            "Protection Legislation."
        ),
    ],
    "payment_terms": [
        "{b} shall pay the Charges within {d} of receipt of a valid, undisputed VAT invoice.",
        "the Charges are stated exclusive of VAT, which shall be payable in addition at the prevailing rate.",
        (
            "{a} may charge interest on overdue sums at 4% per annum above the Bank of England base rate under the "
            "Late Payment of Commercial Debts (Interest) Act 1998."
        ),
        "the Charges shall be fixed for the first Contract Year and thereafter indexed annually by reference to CPI.",
        "invoices shall quote the Purchase Order number, failing which {b} may return them unpaid.",
        (
            "{b} shall be entitled to withhold a sum in respect of any Service Credits accrued whilst the Service "
            "Levels are not met."
        ),
    ],
    "indemnification": [
        (
            "{b} shall keep {a} fully indemnified against all claims arising from any breach of the Data "
            "Protection Legislation."
        ),
        "{b} shall indemnify {a} in respect of any IPR Claim, save where it arises from {a}'s own specifications.",
        "{b} shall indemnify {a} against all Losses incurred as a result of any claim by a data subject.",
        (
            "the indemnified party shall take all reasonable steps to mitigate its Losses and shall make no "
            "admission prejudicial to the defence of the claim."
        ),
        "{b} shall have conduct of any claim under this Clause, whilst keeping {a} informed of its progress.",
        (
            "any indemnity under this Contract shall be reduced to the extent the Loss was contributed to by the "
            "indemnified party."
        ),
    ],
    "intellectual_property": [
        (
            "all Intellectual Property Rights in the Project Specific IPR shall vest in {a} on creation, and {b} "
            "waives its moral rights."
        ),
        "{b} grants {a} a perpetual, royalty-free, non-exclusive licence to use the Supplier Background IPR.",
        (
            "each party shall retain ownership of its Pre-Existing IPR, and no licence is granted save as set out "
            "in this Clause."
        ),
        (
            "{b} shall procure that its Staff waive all moral rights under Chapter IV of the Copyright, Designs "
            "and Patents Act 1988."
        ),
        "{a} shall be free to publish {t} under an Open Government Licence.",
        "database rights in any Customer Data, including personal data, shall belong to {a}.",
    ],
    "assignment": [
        (
            "{b} shall not novate or otherwise dispose of any of its rights under this Contract without prior "
            "written approval."
        ),
        "{a} may novate this Contract to any other Contracting Authority or successor body without the consent of {b}.",
        (
            "{b} shall not sub-contract any part of {t} without the prior written approval of {a}, and shall "
            "remain responsible for its Sub-contractors."
        ),
        "a Change of Control of {b} shall be notified to {a} within five (5) Working Days.",
        "any purported assignment, transfer or novation in breach of this Clause shall be ineffective.",
    ],
    "force_majeure": [
        (
            "neither party shall be in breach whilst its performance is prevented by a Force Majeure Event, "
            "including pandemic restrictions."
        ),
        (
            "the Affected Party shall use all reasonable endeavours to mitigate the effect of the Force Majeure "
            "Event on the performance of its obligations."
        ),
        (
            "where a Force Majeure Event persists for more than {d}, either party may terminate this Contract by "
            "written notice."
        ),
        "industrial action by the Staff of {b} shall not constitute a Force Majeure Event.",
        "{b} shall maintain and test its Business Continuity and Disaster Recovery Plan whilst this Contract subsists.",
    ],
    "warranties": [
        (
            "{b} warrants that it shall perform {t} with reasonable skill and care and in accordance with Good "
            "Industry Practice."
        ),
        (
            "{b} warrants that it has and shall maintain all licences, consents and permits required to perform "
            "its obligations."
        ),
        "{b} warrants that it shall process personal data in compliance with the Data Protection Legislation.",
        (
            "all warranties, conditions and other terms implied by statute or common law are, to the fullest "
            "extent permitted by law, excluded."
        ),
        "{b} warrants that {t} shall be of satisfactory quality and fit for any purpose held out by {b}.",
        "{b} undertakes that it has not offered any inducement contrary to the Bribery Act 2010.",
    ],
    "non_solicitation": [
        (
            "neither party shall, whilst this Contract subsists and for {y} thereafter, entice away any member of "
            "Staff engaged in the delivery of {t}."
        ),
        (
            "{b} shall not, without the written consent of {a}, employ or engage any individual who was employed "
            "by {a} in the provision of {t}."
        ),
        (
            "this Clause shall not prevent either party from employing any person who responds to a general "
            "recruitment advertisement."
        ),
        (
            "if either party breaches this Clause, it shall pay the other a sum equal to six months' salary of the "
            "individual concerned as liquidated damages."
        ),
        "any TUPE transfer of employees at the end of this Contract shall not constitute a breach of this Clause.",
    ],
}

# Words that may be lower-cased after an opener ("Subject to Section 7, either party ...");
# anything else (a party name, a defined term) keeps its capital.
LOWERABLE = {
    "The",
    "Each",
    "Either",
    "Neither",
    "All",
    "Any",
    "Upon",
    "If",
    "No",
    "Nothing",
    "This",
    "During",
    "For",
    "Within",
    "Late",
    "Obligations",
    "Termination",
    "Payment",
    "Liability",
    "Consent",
    "Sections",
    "Trade",
    "Disputes",
    "Where",
    "Whilst",
    "On",
    "Information",
    "Invoices",
    "Industrial",
    "Database",
    "Terms",
    "Failing",
    "Save",
    "Time",
    "Such",
}
