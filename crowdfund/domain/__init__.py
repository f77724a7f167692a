"""Pure domain rules: standard library only; time, amounts and settings come in as arguments."""
