"""Clause types of the demo corpus: sentence templates with slots, plus shared boilerplate.

Data only. Each type has "core" sentences (what makes it that type) and borrows sentences
from neighbours (`OVERLAP`), as real provisions do: a dispute-resolution clause names the
governing law, a limitation-of-liability clause carves out indemnities.
"""

PARTIES = [("the Company", "the Consultant"), ("Licensor", "Licensee"), ("the Seller", "the Buyer"),
           ("the Provider", "the Client"), ("Distributor", "Manufacturer"), ("the Employer", "the Executive"),
           ("Landlord", "Tenant"), ("the Disclosing Party", "the Receiving Party")]
DURATIONS = ["thirty (30) days", "sixty (60) days", "ninety (90) days", "ten (10) business days",
             "fifteen (15) days", "one (1) year", "two (2) years", "six (6) months", "five (5) years"]
AMOUNTS = ["$50,000", "$1,000,000", "the fees paid in the twelve (12) months preceding the claim",
           "two times (2x) the annual fees", "$250,000", "the total amount paid under this Agreement"]
JURISDICTIONS = ["the State of New York", "the State of Delaware", "the State of California", "England and Wales",
                 "the Province of Ontario", "the State of Texas", "the Commonwealth of Massachusetts"]
CITIES = ["New York, New York", "Wilmington, Delaware", "San Francisco, California", "London", "Toronto", "Austin, Texas"]
SECTIONS = ["Section 2.1", "Section 4.3", "Section 7", "Section 9.2", "Section 11.4", "Section 12.3", "Article V", "Exhibit B"]

OPENERS = ["Notwithstanding anything to the contrary herein,", "Except as otherwise provided in this Agreement,",
           "Subject to {section},", "For the avoidance of doubt,", "To the extent permitted by applicable law,",
           "Unless otherwise agreed in writing by the parties,", "Without limiting the generality of the foregoing,",
           "In accordance with {section},"]
CLOSERS = ["The provisions of this {section} shall survive any termination or expiration of this Agreement.",
           "This {section} shall not limit any other rights or remedies available to either party.",
           "The parties acknowledge that this {section} has been specifically negotiated.",
           "Capitalized terms used in this {section} have the meanings given in Section 1."]

CORE = {
    "confidentiality": [
        "{b} shall hold all Confidential Information of {a} in strict confidence and shall not disclose it to any third party.",
        "{b} shall use the Confidential Information solely for the purpose of performing its obligations under this Agreement.",
        "Confidential Information does not include information that is or becomes generally available to the public other than through a breach by {b}.",
        "Upon request, {b} shall promptly return or destroy all Confidential Information of {a} and certify such destruction in writing.",
        "{b} may disclose Confidential Information to the extent required by law, provided that {b} gives {a} prompt written notice.",
        "The obligations of confidentiality shall continue for a period of {d} following the termination of this Agreement.",
    ],
    "governing_law": [
        "This Agreement shall be governed by and construed in accordance with the laws of {j}, without regard to its conflict of laws principles.",
        "The laws of {j} shall govern the validity, interpretation and performance of this Agreement.",
        "This Agreement and any claim arising out of it shall be governed by the internal laws of {j}.",
        "The United Nations Convention on Contracts for the International Sale of Goods shall not apply to this Agreement.",
    ],
    "dispute_resolution": [
        "Any dispute arising out of or relating to this Agreement shall be finally settled by binding arbitration administered by the American Arbitration Association.",
        "The arbitration shall be conducted in {c} before a single arbitrator, and judgment on the award may be entered in any court of competent jurisdiction.",
        "The parties shall first attempt in good faith to resolve any dispute through negotiation between senior executives for a period of {d}.",
        "Each party irrevocably submits to the exclusive jurisdiction of the state and federal courts located in {c}.",
        "If the dispute is not resolved by negotiation, either party may submit it to mediation before commencing litigation.",
        "EACH PARTY HEREBY WAIVES ITS RIGHT TO A TRIAL BY JURY IN ANY ACTION ARISING OUT OF THIS AGREEMENT.",
    ],
    "termination": [
        "Either party may terminate this Agreement upon {d} prior written notice to the other party.",
        "{a} may terminate this Agreement immediately if {b} materially breaches this Agreement and fails to cure such breach within {d} after notice.",
        "This Agreement shall terminate automatically if either party becomes insolvent or makes an assignment for the benefit of creditors.",
        "Upon termination, {b} shall pay all amounts accrued and unpaid as of the effective date of termination.",
        "Termination of this Agreement shall not relieve either party of obligations incurred prior to termination.",
        "This Agreement shall continue for an initial term of {d} and shall renew automatically unless either party gives notice of non-renewal.",
    ],
    "indemnification": [
        "{b} shall indemnify, defend and hold harmless {a} and its officers, directors and employees from and against any and all losses, damages, liabilities and expenses.",
        "The indemnifying party shall have the right to control the defense and settlement of any claim, provided that it shall not settle any claim without the prior written consent of the indemnified party.",
        "{a} shall promptly notify {b} in writing of any third-party claim for which indemnification is sought.",
        "The foregoing indemnity shall cover claims arising from the gross negligence or willful misconduct of {b}.",
        "{b} shall reimburse {a} for reasonable attorneys' fees incurred in connection with any indemnified claim.",
    ],
    "limitation_of_liability": [
        "IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR ANY INDIRECT, INCIDENTAL, SPECIAL, CONSEQUENTIAL OR PUNITIVE DAMAGES, INCLUDING LOSS OF PROFITS.",
        "The aggregate liability of {a} arising out of this Agreement shall not exceed {m}.",
        "IN NO EVENT SHALL {A} BE LIABLE FOR LOST PROFITS OR LOSS OF DATA, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGES.",
        "The limitations in this Section shall not apply to breaches of confidentiality or to a party's indemnification obligations.",
        "Neither party shall be liable for damages in excess of {m}, whether in contract, tort or otherwise.",
    ],
    "payment_terms": [
        "{b} shall pay all undisputed invoices within {d} of receipt.",
        "All fees are exclusive of taxes, and {b} shall be responsible for all sales, use and value added taxes.",
        "Late payments shall bear interest at the rate of one and one-half percent (1.5%) per month or the maximum rate permitted by law.",
        "{a} shall invoice {b} monthly in arrears for the services performed during the preceding month.",
        "{b} shall pay {a} a fee of {m} upon execution of this Agreement.",
        "All payments shall be made in United States dollars by wire transfer to the account designated by {a}.",
    ],
    "assignment": [
        "Neither party may assign or transfer this Agreement without the prior written consent of the other party.",
        "{a} may assign this Agreement without consent to an affiliate or to a successor in connection with a merger, acquisition or sale of all or substantially all of its assets.",
        "Any attempted assignment in violation of this Section shall be null and void.",
        "This Agreement shall be binding upon and inure to the benefit of the parties and their respective successors and permitted assigns.",
        "{b} shall not subcontract any of its obligations without the prior written consent of {a}.",
    ],
    "force_majeure": [
        "Neither party shall be liable for any failure or delay in performance caused by events beyond its reasonable control, including acts of God, war, terrorism, strikes, fire, flood or epidemic.",
        "The affected party shall give prompt notice of the force majeure event and use commercially reasonable efforts to resume performance.",
        "If a force majeure event continues for more than {d}, either party may terminate this Agreement upon written notice.",
        "Obligations to pay money shall not be excused by a force majeure event.",
    ],
    "warranties": [
        "{a} represents and warrants that the services will be performed in a professional and workmanlike manner consistent with industry standards.",
        "{a} warrants that the products will be free from defects in materials and workmanship for a period of {d} from delivery.",
        "EXCEPT AS EXPRESSLY SET FORTH HEREIN, {A} MAKES NO OTHER WARRANTIES, EXPRESS OR IMPLIED, INCLUDING ANY IMPLIED WARRANTY OF MERCHANTABILITY OR FITNESS FOR A PARTICULAR PURPOSE.",
        "Each party represents that it has full power and authority to enter into and perform this Agreement.",
        "{b}'s sole and exclusive remedy for breach of this warranty shall be the repair or replacement of the nonconforming product.",
    ],
    "intellectual_property": [
        "All intellectual property rights in the deliverables shall vest in and remain the exclusive property of {a}.",
        "{b} hereby assigns to {a} all right, title and interest in any inventions, works of authorship and developments created under this Agreement.",
        "{a} grants {b} a non-exclusive, non-transferable, revocable license to use the Licensed Materials solely for its internal business purposes.",
        "Nothing in this Agreement shall be construed as granting any license under any patent, copyright or trademark of {a} except as expressly provided.",
        "{b} shall not reverse engineer, decompile or disassemble any software provided by {a}.",
    ],
    "non_solicitation": [
        "During the term of this Agreement and for {d} thereafter, {b} shall not solicit for employment any employee of {a}.",
        "{b} shall not, directly or indirectly, solicit or induce any customer of {a} to terminate its relationship with {a}.",
        "The restrictions in this Section shall not apply to general solicitations of employment not specifically directed at employees of {a}.",
        "{b} acknowledges that the restrictive covenants in this Section are reasonable in scope and duration.",
    ],
}

# Sentences of a neighbouring type that show up inside a provision: the realistic overlap.
OVERLAP = {
    "governing_law": ["dispute_resolution"], "dispute_resolution": ["governing_law"],
    "indemnification": ["limitation_of_liability"], "limitation_of_liability": ["indemnification", "warranties"],
    "termination": ["force_majeure", "payment_terms"], "force_majeure": ["termination"],
    "confidentiality": ["intellectual_property"], "intellectual_property": ["confidentiality", "warranties"],
    "warranties": ["limitation_of_liability"], "non_solicitation": ["confidentiality", "termination"],
    "payment_terms": ["termination"], "assignment": ["termination"],
}

# Relative frequencies: a long tail, as in contracts (largest about 3.5x the smallest).
WEIGHTS = {
    "confidentiality": 14, "termination": 13, "limitation_of_liability": 11, "governing_law": 11,
    "indemnification": 10, "payment_terms": 9, "assignment": 8, "warranties": 8,
    "intellectual_property": 7, "dispute_resolution": 6, "force_majeure": 5, "non_solicitation": 4,
}

# The shifted style for drift simulation (UK / data-protection-era drafting, new parties).
DRIFT_PARTIES = [("the Supplier", "the Customer"), ("the Controller", "the Processor"), ("the Authority", "the Contractor")]
DRIFT = {
    "confidentiality": [
        "whilst processing personal data on behalf of {a}, {b} shall act only on documented instructions and keep such data secure.",
        "{b} shall ensure that persons authorised to process the personal data have committed themselves to confidentiality.",
        "each party shall comply with the UK GDPR and the Data Protection Act 2018 in respect of any personal data shared under this Contract.",
    ],
    "termination": [
        "{a} may terminate this Contract for convenience by giving not less than {d} notice in writing.",
        "either party may end this Contract forthwith by notice if the other enters administration, receivership or liquidation.",
        "on expiry or early termination, {b} shall co-operate in the orderly handover of the Services to any replacement supplier.",
    ],
    "dispute_resolution": [
        "any dispute shall be referred to an independent tribunal seated in London whose determination shall be final and binding.",
        "the parties shall attempt to settle any dispute by escalation to their respective Contract Managers, whilst continuing to perform.",
    ],
    "governing_law": ["this Contract and any non-contractual obligations arising out of it shall be governed by English law."],
    "limitation_of_liability": [
        "the total liability of {a}, whether in contract, tort (including negligence) or otherwise, shall be capped at 125% of the Charges.",
        "nothing in this Contract limits either party's liability for death or personal injury caused by negligence, or for fraud.",
    ],
    "payment_terms": [
        "{b} shall pay the Charges within {d} of receipt of a valid, undisputed VAT invoice.",
        "the Charges are stated exclusive of VAT, which shall be payable in addition at the prevailing rate.",
    ],
    "indemnification": ["{b} shall keep {a} fully indemnified against all claims arising from any breach of data protection legislation."],
    "intellectual_property": ["all Intellectual Property Rights in the Project Specific IPR shall vest in {a} on creation, and {b} waives its moral rights."],
    "assignment": ["{b} shall not novate or otherwise dispose of any of its rights under this Contract without prior written approval."],
    "force_majeure": ["neither party shall be in breach whilst its performance is prevented by a Force Majeure Event, including pandemic restrictions."],
    "warranties": ["{b} warrants that it shall perform the Services with reasonable skill and care and in accordance with Good Industry Practice."],
    "non_solicitation": ["neither party shall, whilst this Contract subsists, entice away any member of staff engaged in the delivery of the Services."],
}
