"""The application's own routes; capabilities bring theirs and are mounted beside these."""
