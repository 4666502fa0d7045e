"""The password policy, in the spirit of NIST SP 800-63B: long enough, not a known common password, not trivial.

No composition rules (they make passwords harder to remember, not to guess) and no expiry; length
is what counts, long passphrases are welcome (up to MAX_LENGTH characters, a bound on hashing work).
"""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 256

# Passwords of 10+ characters that lead the public breach corpora (shorter ones fail on length first).
COMMON = frozenset(
    [
        "1234567890",
        "0123456789",
        "0987654321",
        "9876543210",
        "12345678910",
        "123456789a",
        "123456789q",
        "1234567890q",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "q1w2e3r4t5",
        "q1w2e3r4t5y6",
        "a1b2c3d4e5",
        "zaq12wsxcde",
        "1qazxsw23edc",
        "qwertyuiop",
        "qwertyuiop1",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "qwertyuiop123",
        "asdfghjkl1",
        "asdfghjkl123",
        "zxcvbnm123",
        "zxcvbnm1234",
        "asdfasdfasdf",
        "qazwsxedcrfv",
        "qazwsxedc123",
        "1qaz2wsx3edc4rfv",
        "password12",
        "password123",
        "password1234",
        "password12345",
        "password123!",
        "password!23",
        "passw0rd123",
        "p@ssword123",
        "p@ssw0rd123",
        "mypassword1",
        "mypassword123",
        "newpassword",
        "newpassword1",
        "changeme123",
        "letmein123",
        "welcome123",
        "welcome1234",
        "welcome2024",
        "welcome2025",
        "welcome2026",
        "admin12345",
        "admin123456",
        "administrator",
        "iloveyou12",
        "iloveyou123",
        "iloveyou1234",
        "sunshine123",
        "princess123",
        "football123",
        "baseball123",
        "superman123",
        "starwars123",
        "trustno1234",
        "dragon1234",
        "monkey1234",
        "michael123",
        "jennifer123",
        "computer123",
        "internet123",
        "whatever123",
        "1234qwerty",
        "12345qwert",
        "123qweasd",
        "123qweasdzxc",
        "1q2w3e4r5t6y7u",
        "abcdefghij",
        "abcdefghijk",
        "abcdefghijkl",
        "abcd123456",
        "abc1234567",
        "abcdef1234",
        "aaaaaa1111",
        "1111aaaa",
        "11223344556",
        "1122334455",
        "1234512345",
        "1234554321",
        "1212121212",
        "1231231231",
        "1234123412",
        "0000011111",
        "qweasdzxc123",
        "summer2024",
        "summer2025",
        "winter2024",
        "winter2025",
        "spring2025",
        "autumn2025",
        "password2024",
        "password2025",
        "password2026",
        "secret1234",
        "secret12345",
        "passpass123",
        "testtest123",
        "test123456",
        "testing123",
    ]
)


def problem(password: str, email: str | None = None) -> str | None:
    """Why this password is refused (one short reason), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    if len(set(password)) == 1:
        return "the password must not be one character repeated"
    folded = password.casefold()
    if folded.strip() in COMMON:
        return "the password is on the list of commonly used passwords; choose another"
    if email and folded in {email.casefold(), email.casefold().split("@", 1)[0]}:
        return "the password must not be the email address"
    return None
