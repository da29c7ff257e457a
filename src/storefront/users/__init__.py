"""Managing accounts: one's own profile, admins' work on anyone's, the export."""
