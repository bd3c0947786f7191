"""What the Rust tests ask pyHanko's library about a sealed PDF (run by the test venv's python).

    python pyhanko_checks.py structure FILE.pdf
        The signature's SubFilter, signed and unsigned attributes, content type.
    python pyhanko_checks.py ades ROOT.pem FILE.pdf
        ETSI EN 319 102-1 validation (pyHanko's ades_lta_validation, as `pyhanko sign
        adesverify` runs it, no revocation checks) and the PAdES baseline level the file's
        structure reaches.

Prints `key value` lines for the tests to read.
"""

import asyncio
import sys

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation.ades import ades_lta_validation, ades_with_time_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import NO_REVOCATION, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager


def structure(path):
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        signatures = reader.embedded_signatures
        print("signatures", len(signatures))
        sig = signatures[0]
        print("subfilter", sig.sig_object["/SubFilter"])
        print("filter", sig.sig_object["/Filter"])
        signed = sorted(a["type"].dotted for a in sig.signer_info["signed_attrs"])
        print("signed", ",".join(signed))
        unsigned = sig.signer_info["unsigned_attrs"]
        names = [] if unsigned.native is None else [a["type"].native for a in unsigned]
        print("unsigned", ",".join(names))
        encap = sig.signed_data["encap_content_info"]
        print("content_type", encap["content_type"].native)
        print("detached", encap["content"].native is None)
        print("digest", sig.md_algorithm)
        print("field", sig.field_name)
        print("coverage", sig.evaluate_signature_coverage().name)


def load_root(path):
    with open(path, "rb") as f:
        data = f.read()
    _, _, der = pem.unarmor(data)
    return x509.Certificate.load(der)


def ades(root_path, path):
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[load_root(root_path)]),
        revinfo_policy=CertRevTrustPolicy(NO_REVOCATION),
    )
    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(cert_validation_policy=policy),
        diff_policy=DEFAULT_DIFF_POLICY,
    )
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        sig = reader.embedded_regular_signatures[0]
        # The validation process for signatures with time (ETSI EN 319 102-1 5.5), the one
        # that fits B-T: the signature timestamp proves the signature existed at its time.
        with_time = asyncio.run(
            ades_with_time_validation(
                sig.signed_data,
                spec.signature_validation_spec,
                timing_info=ValidationTimingInfo.now(),
                raw_digest=sig.compute_digest(),
            )
        )
        print("with_time_status", with_time.ades_subindic.status.name)
        print("with_time_subindication", with_time.ades_subindic.standard_name)
        print("with_time_best_signature_time", with_time.best_signature_time.isoformat())
        # The long-term process (5.6.3), as `pyhanko sign adesverify` runs it: without a DSS,
        # revocation data and document timestamps it cannot conclude (INDETERMINATE, NO_POE).
        result = asyncio.run(
            ades_lta_validation(sig, spec, timing_info=ValidationTimingInfo.now())
        )
        print("ades_status", result.ades_subindic.status.name)
        print("ades_subindication", result.ades_subindic.standard_name)
        print("bottom_line", result.api_status.bottom_line)
        print("summary", result.api_status.summary())
        timestamp = result.api_status.timestamp_validity
        print("signature_timestamp", timestamp is not None and timestamp.intact and timestamp.valid)
        if timestamp is not None:
            print("timestamp_time", timestamp.timestamp.isoformat())
            print("best_signature_time", result.best_signature_time.isoformat())
        # The PAdES baseline level the structure reaches (ETSI EN 319 142-1 6.3): B-B with a
        # CAdES signature, B-T with a signature timestamp, B-LT with a DSS, B-LTA with a
        # document timestamp after it.
        dss = "/DSS" in reader.root
        doc_timestamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
        level = "B-B"
        if timestamp is not None:
            level = "B-T"
            if dss:
                level = "B-LT"
                if doc_timestamps:
                    level = "B-LTA"
        print("pades_level", level)


if __name__ == "__main__":
    if sys.argv[1] == "structure":
        structure(sys.argv[2])
    elif sys.argv[1] == "ades":
        ades(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown check {sys.argv[1]}")
