"""The columns of the CSV exports, and each export's rows as dicts of plain values."""

MODULE_COLUMNS = (
    "module_slug module_title started completed completion_rate median_time_to_complete_s p90_time_to_complete_s"
).split()
LENS_COLUMNS = (
    "module_slug learning_outcome lens lens_title type optional started completed completion_rate"
    " median_time_to_complete_s p90_time_to_complete_s estimate_s median_to_estimate flag"
).split()
LEARNER_COLUMNS = "learner kind email modules_completed lenses_completed total_time_s last_active".split()


def rate(value) -> str:
    return "" if value is None else f"{value:.4f}"


def module_row(row: dict) -> dict:
    module = row["module"]
    return {
        "module_slug": module.slug, "module_title": module.title, "started": row["started"],
        "completed": row["completed"], "completion_rate": rate(row["completion_rate"]),
        "median_time_to_complete_s": row["median_s"], "p90_time_to_complete_s": row["p90_s"],
    }  # fmt: skip


def lens_rows(report: dict):
    for outcome in report["outcomes"]:
        for lens in outcome["lenses"]:
            yield {
                "module_slug": report["module"].slug, "learning_outcome": outcome["outcome"].title,
                "lens": lens["lens"].name, "lens_title": lens["lens"].title, "type": lens["lens"].type,
                "optional": str(lens["section"].optional).lower(), "started": lens["started"],
                "completed": lens["completed"], "completion_rate": rate(lens["completion_rate"]),
                "median_time_to_complete_s": lens["median_s"], "p90_time_to_complete_s": lens["p90_s"],
                "estimate_s": lens["estimate_s"], "median_to_estimate": rate(lens["ratio"]), "flag": lens["flag"] or "",
            }  # fmt: skip


def learner_row(learner: dict) -> dict:
    return {
        "learner": learner["label"], "kind": learner["kind"], "email": learner["email"] or "",
        "modules_completed": learner["modules_completed"], "lenses_completed": learner["lenses_completed"],
        "total_time_s": learner["time_s"],
        "last_active": learner["last_active"].isoformat() if learner["last_active"] else "",
    }  # fmt: skip
