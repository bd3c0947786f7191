//! The population register extract that guardianships are imported from.
//!
//! ## Format
//! JSON lines (UTF-8), one person per line; blank lines are skipped:
//!
//! ```text
//! {"national_id":"17848512397","given_name":"Ingrid","family_name":"Solberg"}
//! {"national_id":"30861851245","given_name":"Sigrid","family_name":"Lunde","guardians":["17848512397"]}
//! ```
//!
//! - `national_id`: a Norwegian fødselsnummer or D-nummer (11 digits) or a Danish CPR number
//!   (10 digits), as [`NationalId::parse`] reads it.
//! - `given_name`, `family_name`: as the register has them (`family_name` may be empty).
//! - `guardians` (optional): the national ids of the person's guardians (one or two, at most
//!   four). Each guardian must have a line of their own in the same extract, so that every
//!   person the import registers has a name.
//!
//! The extract is complete: a guardianship the portal holds from an earlier import and this
//! one no longer lists is ended by the import. Who is a minor is not read from the extract but
//! computed from each national id: a listed guardianship of someone who is 18 has simply
//! ended.
//!
//! Errors name the line number and what is wrong, never the line's content.

use std::collections::HashMap;

use serde::Deserialize;

use crate::identity::NationalId;

/// The most guardians one person may have in an extract.
pub const MAX_GUARDIANS: usize = 4;

/// One person in an extract.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtractPerson {
    /// Their national id.
    pub national_id: NationalId,
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Their guardians' national ids (empty for most adults).
    pub guardians: Vec<NationalId>,
}

/// Names and numbers are personal data: `Debug` shows how many guardians, nothing else.
impl std::fmt::Debug for ExtractPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractPerson")
            .field("national_id", &self.national_id)
            .field("guardians", &self.guardians.len())
            .finish_non_exhaustive()
    }
}

/// A parsed, checked extract.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extract {
    /// Every person, in the order of the file.
    pub persons: Vec<ExtractPerson>,
}

impl Extract {
    /// Every (guardian, minor) pair the extract lists, as indexes into `persons`.
    pub fn guardianships(&self) -> Vec<(usize, usize)> {
        let index: HashMap<&str, usize> = self
            .persons
            .iter()
            .enumerate()
            .map(|(n, person)| (person.national_id.expose(), n))
            .collect();
        let mut pairs = Vec::new();
        for (minor, person) in self.persons.iter().enumerate() {
            for guardian in &person.guardians {
                if let Some(&guardian) = index.get(guardian.expose()) {
                    pairs.push((guardian, minor));
                }
            }
        }
        pairs
    }
}

/// What is wrong with a line of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractProblem {
    /// Not a JSON object with the fields above.
    #[error("not a person record (JSON with national_id, given_name, family_name)")]
    NotARecord,
    /// The person's national id does not parse.
    #[error("the national id does not parse")]
    BadNationalId,
    /// A guardian's national id does not parse.
    #[error("a guardian's national id does not parse")]
    BadGuardianId,
    /// The same person is on two lines.
    #[error("the person is listed twice")]
    Duplicate,
    /// A person is listed as their own guardian.
    #[error("a person is listed as their own guardian")]
    OwnGuardian,
    /// More than [`MAX_GUARDIANS`] guardians, or the same one twice.
    #[error("too many guardians, or one listed twice")]
    Guardians,
    /// A guardian with no line of their own in the extract.
    #[error("a guardian is not in the extract")]
    GuardianMissing,
}

/// A problem and the line (from 1) it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ExtractError {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: ExtractProblem,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    national_id: String,
    given_name: String,
    family_name: String,
    #[serde(default)]
    guardians: Vec<String>,
}

/// Reads and checks a whole extract; the first problem found stops it (nothing is imported
/// from an extract with a bad line).
pub fn parse_extract(text: &str) -> Result<Extract, ExtractError> {
    let mut persons = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    let mut line_numbers = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let fail = |problem| ExtractError { line, problem };
        if raw.trim().is_empty() {
            continue;
        }
        let record: Line =
            serde_json::from_str(raw).map_err(|_| fail(ExtractProblem::NotARecord))?;
        let national_id = NationalId::parse(&record.national_id)
            .map_err(|_| fail(ExtractProblem::BadNationalId))?;
        let mut guardians = Vec::with_capacity(record.guardians.len());
        for guardian in &record.guardians {
            let guardian =
                NationalId::parse(guardian).map_err(|_| fail(ExtractProblem::BadGuardianId))?;
            if guardian == national_id {
                return Err(fail(ExtractProblem::OwnGuardian));
            }
            if guardians.contains(&guardian) {
                return Err(fail(ExtractProblem::Guardians));
            }
            guardians.push(guardian);
        }
        if guardians.len() > MAX_GUARDIANS {
            return Err(fail(ExtractProblem::Guardians));
        }
        if lines_of
            .insert(national_id.expose().to_owned(), line)
            .is_some()
        {
            return Err(fail(ExtractProblem::Duplicate));
        }
        line_numbers.push(line);
        persons.push(ExtractPerson {
            national_id,
            given_name: record.given_name.trim().to_owned(),
            family_name: record.family_name.trim().to_owned(),
            guardians,
        });
    }
    for (person, line) in persons.iter().zip(line_numbers) {
        if person
            .guardians
            .iter()
            .any(|guardian| !lines_of.contains_key(guardian.expose()))
        {
            return Err(ExtractError {
                line,
                problem: ExtractProblem::GuardianMissing,
            });
        }
    }
    Ok(Extract { persons })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOTHER: &str = "17848512397";
    const FATHER: &str = "05890163469";
    const CHILD: &str = "30861851245";

    fn person(id: &str, guardians: &[&str]) -> String {
        serde_json::json!({
            "national_id": id, "given_name": "A", "family_name": "B", "guardians": guardians
        })
        .to_string()
    }

    #[test]
    fn a_minor_with_two_guardians_is_read() {
        let text = format!(
            "{}\n\n{}\n{}\n",
            person(MOTHER, &[]),
            person(CHILD, &[MOTHER, FATHER]),
            person(FATHER, &[])
        );
        let extract = parse_extract(&text).unwrap();
        assert_eq!(extract.persons.len(), 3);
        assert_eq!(extract.guardianships(), vec![(0, 1), (2, 1)]);
        let debug = format!("{extract:?}");
        assert!(
            !debug.contains(MOTHER) && !debug.contains("\"A\""),
            "{debug}"
        );
    }

    #[test]
    fn problems_name_the_line_and_never_the_content() {
        let cases = [
            ("not json".to_owned(), 1, ExtractProblem::NotARecord),
            (person("12345678901", &[]), 1, ExtractProblem::BadNationalId),
            (person(CHILD, &["1"]), 1, ExtractProblem::BadGuardianId),
            (person(CHILD, &[CHILD]), 1, ExtractProblem::OwnGuardian),
            (
                format!(
                    "{}\n{}",
                    person(MOTHER, &[]),
                    person(CHILD, &[MOTHER, MOTHER])
                ),
                2,
                ExtractProblem::Guardians,
            ),
            (
                format!("{}\n{}", person(MOTHER, &[]), person(MOTHER, &[])),
                2,
                ExtractProblem::Duplicate,
            ),
            (person(CHILD, &[MOTHER]), 1, ExtractProblem::GuardianMissing),
        ];
        for (text, line, problem) in cases {
            let error = parse_extract(&text).unwrap_err();
            assert_eq!(error, ExtractError { line, problem }, "{text}");
            let shown = error.to_string();
            assert!(!shown.contains(CHILD) && !shown.contains(MOTHER), "{shown}");
        }
    }
}
