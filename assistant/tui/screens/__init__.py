"""Modal and full screens: approval, session picker, spec editor, help."""
