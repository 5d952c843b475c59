"""What the vault loader tests share: the test vault in tests/vaults/lens-course, its ids, and edits to a copy of it.

The vault is a made-up course on study skills written in the Lens format (/work/shared/LENS-FORMAT.md).
Its ids are fixed, so a test can name what it expects. An error test copies the vault into
tmp_path and breaks one thing there (`break_file`), never the vault itself.
"""
import shutil
from pathlib import Path
from uuid import UUID

GOOD_VAULT = Path(__file__).resolve().parent.parent / "vaults" / "lens-course"

STUDY_SKILLS = "study-skills"  # courses/user-facing/Study Skills.md: meetings, an optional module
FOCUS_LAB = "focus-lab"  # courses/in-development/Focus Lab.md: no meetings, no description

STUDY_SKILLS_FILE = "courses/user-facing/Study Skills.md"
FOCUS_LAB_FILE = "courses/in-development/Focus Lab.md"

# Modules
MEMORY_BASICS = UUID("747b7769-9dc2-4ee5-87b2-630a04c6b492")
ATTENTION_AND_FOCUS = UUID("6828d42c-65f7-4ac4-846e-b694e1870cc6")  # written as contentId
NOTE_TAKING = UUID("ad288195-54e6-4eb6-9b31-ade9166f6a75")
DEEP_WORK_SESSIONS = UUID("89cbcc9e-1cde-4e22-8527-325d4c05c95c")
READING_ACTIVELY = UUID("7b3381e9-71fd-4430-8059-21967f2d3a09")

# Learning outcomes
LO_STAGES = UUID("105bd3cf-b0a5-4f61-8bee-bd18054978fd")
LO_TESTING_EFFECT = UUID("04b18768-d451-4638-af88-c5df57d961b7")
LO_RETRIEVAL_SESSION = UUID("60b10249-65d6-432c-870d-1909f1163160")
LO_DISTRACTIONS = UUID("3313d35b-523b-42bb-b4e3-beda1df255a9")  # an older file that lists its own lens
LO_FOCUS_BLOCK = UUID("26a60498-916c-4637-9846-974fd95d395f")  # has a test and suggested lenses
LO_SUMMARISE = UUID("e8b2abce-b724-43c8-8a93-97cd1c3e5efd")
LO_PLAN_DEEP_WORK = UUID("fb5332b7-71ef-4c33-a357-0ea0dbe50ce3")
LO_REVIEW_WEEK = UUID("18bdadd0-2b41-4f33-b0e0-1ab4d9f60d66")  # no lens serves it
LO_READ_QUESTION = UUID("11cc98bc-d7f0-4f67-9194-c39db49eb639")
TEST_FOCUS_BLOCK = UUID("48e311bf-fd26-440f-bc1c-f79beef2c3fb")  # the `## Test:` id, never imported

# Lens files
SHOWCASE = UUID("e30f6684-e506-49bc-bc8b-439f999d0906")  # Lenses/Every Kind of Segment.md
FORGETTING_CURVE = UUID("a147732b-a8ac-4796-8a21-75edd7ccb830")
MEMORY_MYTHS = UUID("c78e18d6-9625-4ea1-8678-53bb12d66c5b")
SELF_TESTING = UUID("a1905147-881c-463b-858c-13d3b842d217")
WHERE_ATTENTION_GOES = UUID("cbd0ddc8-8783-427e-96f8-42ba17e0ce4b")
TWO_MINUTE_RESET = UUID("82d0034e-df55-4052-b09f-8eb2090c021d")
DISTRACTION_DIARY = UUID("db7d9608-e9ba-4c5b-9e91-fed952f9d864")
SINGLE_TASKING = UUID("7203be0a-4c08-4944-aafb-e1833c5500e1")  # the file with CRLF line ends
NOTES_THAT_WORK = UUID("5b1bea5f-d2e4-4296-8d7b-86ed92aa424e")
PLANNING_A_SESSION = UUID("e16d1bc7-4496-4a44-bdac-253e3e4bf39d")
PROTECTING_THE_SESSION = UUID("088c20be-82d7-4f87-b19d-a43fbe7226df")
READING_WITH_QUESTIONS = UUID("d2e4e7d0-70eb-4ed4-8db4-57d2e39a2760")
POMODORO_PRIMER = UUID("d613ee6d-5fb6-4f6b-b345-d4af4078971d")  # only a suggested lens, never read

# Inline lenses (an `id::` in a module file)
WELCOME_TO_MEMORY = UUID("91efeabd-91b2-463b-9bb9-c0ae2e1c9fab")
SPACED_REVIEW = UUID("224b7630-1c2c-4c4a-bd96-317b324c576a")
WELCOME_TO_NOTES = UUID("2f8b0651-ed6b-4163-8605-a23d2b1d9119")
CORNELL_NOTES = UUID("a1409698-5199-4b76-bc00-01376d05b961")
WHAT_DEEP_WORK_IS = UUID("6c131aa5-47c3-4e69-b285-f68f6a54f61c")

MEMORY_BASICS_FILE = "modules/Memory Basics.md"
SHOWCASE_FILE = "Lenses/Every Kind of Segment.md"
CRLF_FILE = "Lenses/Single-Tasking.md"


def copy_vault(tmp_path: Path, name: str = "vault") -> Path:
    """A copy of the good vault that a test may break."""
    return Path(shutil.copytree(GOOD_VAULT, tmp_path / name))


def read_text(vault: Path, relative: str) -> str:
    """A file's text as written, line ends included (newline="" keeps a CRLF file's \\r)."""
    with open(vault / relative, encoding="utf-8", newline="") as file:
        return file.read()


def write_text(vault: Path, relative: str, text: str) -> None:
    path = vault / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(text)


def break_file(vault: Path, relative: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a vault file; a test that edits nothing would prove nothing."""
    text = read_text(vault, relative)
    newline = "\r\n" if "\r\n" in text else "\n"
    old, new = old.replace("\n", newline), new.replace("\n", newline)
    assert text.count(old) == 1, f"{relative} should hold {old!r} exactly once"
    write_text(vault, relative, text.replace(old, new))


def line_of(vault: Path, relative: str, needle: str) -> int:
    """The 1-based line on which `needle` is written, as an author's editor numbers it."""
    lines = read_text(vault, relative).replace("\r\n", "\n").split("\n")
    found = [number for number, line in enumerate(lines, start=1) if needle in line]
    assert len(found) == 1, f"{needle!r} should be on exactly one line of {relative}, found {found}"
    return found[0]
