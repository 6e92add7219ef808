"""Forms, by what they serve: `people` (RSVPs and volunteer sign-ups), `events`,
`volunteer_roles`, `attendees` and `accounts` (organisers), all built on `base`."""
