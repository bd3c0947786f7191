//! Checks of short texts that agencies and citizens send (titles, names): shared by the
//! registers so the rule is the same everywhere.

/// One line of text: trimmed, not empty (`empty`), at most `max` characters and without
/// control characters (`invalid`).
pub fn check_line<E>(text: &str, max: usize, empty: E, invalid: E) -> Result<String, E> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty);
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(invalid);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::check_line;

    #[test]
    fn a_line_is_trimmed_bounded_and_without_control_characters() {
        assert_eq!(check_line("  Vedtak  ", 10, 1, 2), Ok("Vedtak".to_owned()));
        assert_eq!(check_line("   ", 10, 1, 2), Err(1));
        assert_eq!(
            check_line("æøå", 3, 1, 2),
            Ok("æøå".to_owned()),
            "characters, not bytes"
        );
        assert_eq!(check_line("abcd", 3, 1, 2), Err(2));
        assert_eq!(check_line("a\tb", 10, 1, 2), Err(2));
    }
}
