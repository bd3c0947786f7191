"""What the Rust tests ask pyHanko's library about a sealed PDF (run by the test venv's python).

    python pyhanko_checks.py structure FILE.pdf
        The signature's SubFilter, signed and unsigned attributes, content type.
    python pyhanko_checks.py ades ROOT.pem FILE.pdf
        ETSI EN 319 102-1 validation (pyHanko's ades_lta_validation, as `pyhanko sign
        adesverify` runs it, no revocation checks) and the PAdES baseline level the file's
        structure reaches.
    python pyhanko_checks.py lta ROOT.pem FILE.pdf
        A B-LTA file: what its DSS holds (certificates, OCSP responses by serial number and
        status, CRLs by issuer), the document timestamp validated with the DSS's data only
        (no fetching, revocation information required), and ETSI EN 319 102-1 5.6.3
        validation (ades_lta_validation) with revocation information required and only the
        file's own data (no fetching).

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


def lta(root_path, path):
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.policy_decl import (
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
    )
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, FreshnessReqType

    root = load_root(root_path)
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        sig = reader.embedded_regular_signatures[0]
        print("seal_serial", format(sig.signer_cert.serial_number, "x"))
        print("seal_issuer", sig.signer_cert.issuer.human_friendly)
        dss = DocumentSecurityStore.read_dss(reader)
        print("dss_certs", len(dss.certs))
        for cert in dss.load_certs():
            print("dss_cert", cert.subject.human_friendly)
        print("dss_ocsps", len(dss.ocsps))
        for ref in dss.ocsps:
            data = ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE)
            response = asn1_ocsp.OCSPResponse.load(data)
            print("ocsp_status", response["response_status"].native)
            basic = response["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                serial = format(single["cert_id"]["serial_number"].native, "x")
                print("ocsp", serial, single["cert_status"].name)
        print("dss_crls", len(dss.crls))
        for ref in dss.crls:
            data = ref.get_object().read_data(DecodePurpose.CRL)
            crl = asn1_crl.CertificateList.load(data)
            revoked = crl["tbs_cert_list"]["revoked_certificates"].native or []
            print("crl", crl.issuer.human_friendly, "revoked", len(revoked))

        # The document timestamp, with the DSS's data only: no fetching, revocation
        # information required for every certificate that declares where to find it.
        doc_timestamps = reader.embedded_timestamp_signatures
        print("doc_timestamps", len(doc_timestamps))
        context = dss.as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
        )
        for ts in doc_timestamps:
            status = validate_pdf_timestamp(ts, validation_context=context)
            print("doc_timestamp", ts.field_name, "intact", status.intact, "valid", status.valid,
                  "trusted", status.trusted, "coverage", status.coverage.name)

        policy = CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[root]),
            revinfo_policy=CertRevTrustPolicy(
                REQUIRE_REVINFO,
                freshness=None,
                freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
            ),
        )
        spec = PdfSignatureValidationSpec(
            signature_validation_spec=SignatureValidationSpec(
                cert_validation_policy=policy,
                revinfo_gathering_policy=RevocationInfoGatheringSpec(
                    online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
                ),
            ),
            diff_policy=DEFAULT_DIFF_POLICY,
        )
        result = asyncio.run(
            ades_lta_validation(sig, spec, timing_info=ValidationTimingInfo.now())
        )
        print("lta_status", result.ades_subindic.status.name)
        print("lta_subindication", result.ades_subindic.standard_name)
        print("bottom_line", result.api_status.bottom_line)
        print("modification_level", result.api_status.modification_level.name)
        print("summary", result.api_status.summary())
        print("evidence_record", result.oldest_evidence_record_timestamp is not None)
        timestamp = result.api_status.timestamp_validity
        signature_timestamp = timestamp is not None and timestamp.intact and timestamp.valid
        print("signature_timestamp", signature_timestamp)
        # The level (ETSI EN 319 142-1 6.3), as far as the file shows it: a signature
        # timestamp (B-T), a DSS with revocation data (B-LT), a document timestamp after it
        # that validates (B-LTA).
        level = "B-B"
        if signature_timestamp:
            level = "B-T"
            if dss.ocsps or dss.crls:
                level = "B-LT"
                if doc_timestamps and all(
                    validate_pdf_timestamp(ts, validation_context=context).valid
                    for ts in doc_timestamps
                ):
                    level = "B-LTA"
        print("pades_level", level)


if __name__ == "__main__":
    if sys.argv[1] == "structure":
        structure(sys.argv[2])
    elif sys.argv[1] == "ades":
        ades(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "lta":
        lta(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown check {sys.argv[1]}")
