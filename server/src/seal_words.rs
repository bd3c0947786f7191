//! The words of a sealed document and of the letter that brings it, in the job's language
//! (`locales/*.json`, section `signing.seal`): the front page, the line on every page of the
//! agency's document, the names of the embedded evidence files, and the letter. The facts come
//! from the domain ([`SealText`], [`SealingJob`]); only the wording is decided here.

use app::when::date_in_words;
use borgerportal::person::Language;
use borgerportal::signing::{
    sealed_file_name, SealSignerText, SealText, SealedLetterWords, SealingJob, SignerIdentity,
};
use borgerportal::Loa;
use pades::{FrontPage, Signer};

use crate::texts::{fill, text};

/// Words in one language.
#[derive(Debug, Clone, Copy)]
pub struct SealWords {
    lang: &'static str,
}

impl SealWords {
    /// The words of a job in `language`.
    pub fn new(language: Language) -> SealWords {
        SealWords {
            lang: language.code(),
        }
    }

    fn text(&self, key: &str) -> String {
        text(self.lang, key)
    }

    fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        fill(&self.text(key), values)
    }

    /// The front page for one document, with the signers' line for every page of the agency's
    /// document. `test`: sealed with the test PKI, which it says.
    pub fn front_page(&self, text: &SealText, test: bool) -> FrontPage {
        FrontPage {
            heading: self.text("signing.seal.heading"),
            test_notice: test.then(|| self.text("signing.seal.test_notice")),
            document_title: text.document_title.clone(),
            sender: self.fill("signing.seal.sender", &[("sender", &text.sender)]),
            paragraphs: vec![
                self.fill("signing.seal.job", &[("title", &text.job_title)]),
                self.fill(
                    "signing.seal.explained",
                    &[("level", &self.level_name(text.level))],
                ),
            ],
            signers_heading: self.text("signing.seal.signers_heading"),
            signers: text.signers.iter().map(|s| self.signer(s)).collect(),
            page_footer: Some(self.page_footer(text)),
        }
    }

    /// The line printed at the foot of every page of the agency's document: who signed.
    pub fn page_footer(&self, text: &SealText) -> String {
        let names: Vec<&str> = text.signers.iter().map(|s| s.name.as_str()).collect();
        self.fill("signing.seal.page_footer", &[("names", &names.join(", "))])
    }

    /// The file name and description of signer `index`'s (from 0) embedded evidence.
    pub fn evidence_file(&self, index: usize, signer: &SealSignerText) -> (String, String) {
        (
            self.fill(
                "signing.seal.evidence_file",
                &[("n", &(index + 1).to_string())],
            ),
            self.fill(
                "signing.seal.evidence_description",
                &[("name", &signer.name)],
            ),
        )
    }

    /// The letter that brings the sealed documents to each signer for themself.
    pub fn letter(&self, job: &SealingJob) -> SealedLetterWords {
        let files: Vec<String> = job
            .documents
            .iter()
            .map(|document| sealed_file_name(&document.file_name))
            .collect();
        SealedLetterWords {
            title: self.fill("signing.seal.letter_title", &[("title", &job.title)]),
            safe_title: self.text("signing.seal.letter_safe_title"),
            body: self.fill(
                "signing.seal.letter_body",
                &[("title", &job.title), ("documents", &files.join("\n"))],
            ),
        }
    }

    fn signer(&self, signer: &SealSignerText) -> Signer {
        let name = match &signer.identity {
            SignerIdentity::Name => signer.name.clone(),
            SignerIdentity::BirthDate(born) => self.fill(
                "signing.seal.born",
                &[
                    ("name", &signer.name),
                    ("date", &date_in_words(*born, self.lang)),
                ],
            ),
            SignerIdentity::NationalId(id) => self.fill(
                "signing.seal.national_id",
                &[("name", &signer.name), ("id", id)],
            ),
        };
        let at = signer.signed_at;
        let mut roles = Vec::new();
        if let Some(helper) = &signer.helper {
            roles.push(self.fill(
                "signing.seal.signed_for_by",
                &[("name", &signer.name), ("helper", helper)],
            ));
        }
        if signer.for_other {
            roles.push(self.text("signing.seal.for_other"));
        }
        Signer {
            name,
            signed_at: self.fill(
                "signing.seal.signed_at",
                &[
                    ("date", &date_in_words(at.date(), self.lang)),
                    ("time", &format!("{:02}:{:02}", at.hour(), at.minute())),
                ],
            ),
            level: self.fill(
                "signing.seal.level",
                &[("level", &self.level_name(signer.level))],
            ),
            eid: self.fill("signing.seal.eid", &[("eid", eid_name(&signer.eid))]),
            on_behalf_of: (!roles.is_empty()).then(|| roles.join(". ")),
        }
    }

    fn level_name(&self, level: Loa) -> String {
        match level {
            Loa::High => self.text("signing.seal.level_high"),
            _ => self.text("signing.seal.level_substantial"),
        }
    }
}

/// An eID's name as its users know it (the same in every language).
fn eid_name(eid: &str) -> &str {
    match eid {
        "idporten" => "ID-porten",
        "mitid" => "MitID",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn facts() -> SealText {
        SealText {
            document_title: "Kontrakt".into(),
            job_title: "Kjøp av {{ title }}".into(),
            sender: "Skatteetaten".into(),
            level: Loa::High,
            signers: vec![
                SealSignerText {
                    name: "Kari Nordmann".into(),
                    identity: SignerIdentity::BirthDate(date!(1980 - 02 - 01)),
                    signed_at: datetime!(2026-05-04 10:07 UTC),
                    level: Loa::High,
                    eid: "idporten".into(),
                    for_other: false,
                    helper: Some("Hans Hjelper".into()),
                },
                SealSignerText {
                    name: "Ola Nordmann".into(),
                    identity: SignerIdentity::Name,
                    signed_at: datetime!(2026-05-05 09:00 UTC),
                    level: Loa::Substantial,
                    eid: "mitid".into(),
                    for_other: true,
                    helper: None,
                },
            ],
        }
    }

    #[test]
    fn the_front_page_speaks_the_jobs_language() {
        let english = SealWords::new(Language::En).front_page(&facts(), true);
        assert_eq!(english.heading, "Signed document");
        assert_eq!(english.sender, "Sender: Skatteetaten");
        assert!(english.test_notice.unwrap().starts_with("TEST: "));
        assert_eq!(english.signers[0].name, "Kari Nordmann, born 1 Feb 1980");
        assert_eq!(
            english.signers[0].signed_at,
            "Signed 4 May 2026 at 10:07 UTC"
        );
        assert_eq!(english.signers[1].eid, "Logged in with MitID");
        assert!(english.paragraphs[1].contains("level high"));
        // A value that looks like a placeholder is printed as it is, never filled again.
        assert_eq!(english.paragraphs[0], "Signing job: Kjøp av {{ title }}");

        let danish = SealWords::new(Language::Da).front_page(&facts(), false);
        assert_eq!(danish.heading, "Underskrevet dokument");
        assert!(danish.test_notice.is_none());
        assert_eq!(danish.signers[0].name, "Kari Nordmann, født 01.02.1980");
        assert_eq!(
            danish.signers[0].on_behalf_of.as_deref(),
            Some("Underskrevet for Kari Nordmann af Hans Hjelper med fuldmagt til at underskrive")
        );
        assert_eq!(danish.signers[1].level, "Sikringsniveau: betydelig");

        let bokmal = SealWords::new(Language::Nb).front_page(&facts(), false);
        assert_eq!(bokmal.signers[1].level, "Sikkerhetsnivå: betydelig");
        assert_eq!(
            bokmal.signers[1].on_behalf_of.as_deref(),
            Some("Signerte i en rolle, på vegne av en annen")
        );
    }

    #[test]
    fn every_language_has_every_word() {
        for language in Language::ALL {
            let words = SealWords::new(language);
            let page = words.front_page(&facts(), true);
            let footer = words.page_footer(&facts());
            let (file, description) = words.evidence_file(0, &facts().signers[0]);
            for said in [
                &page.heading,
                &page.sender,
                &page.paragraphs[1],
                &footer,
                &file,
            ]
            .into_iter()
            .chain([&description, &page.signers[0].signed_at])
            {
                assert!(
                    !said.contains("signing.seal") && !said.contains("{{"),
                    "{language:?}: {said}"
                );
            }
            assert!(footer.contains("Kari Nordmann, Ola Nordmann"), "{footer}");
            assert!(file.ends_with("-1.json"), "{file}");
        }
    }
}
