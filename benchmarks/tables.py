"""Render the benchmark JSON results as the markdown tables of docs/benchmarks.md.

Run: ``python -m benchmarks.tables`` (reads benchmarks/results/*.json, prints markdown).
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path("benchmarks/results")


def speed_table(data: dict) -> str:
    lines = [
        f"{data['stages']} stages, Normal, depth 3, learning rate 0.01, all rows every stage.",
        "",
        "| dataset | train rows | NGBoost / natgrad (fisher) | NGBoost / natgrad (ngboost rule) "
        "| natgrad (fisher) / LightGBM | natgrad (ngboost rule) / LightGBM |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['dataset']} | {r['n_rows']} | {r['speedup_vs_ngboost_fisher']:.0f}x "
            f"| {r['speedup_vs_ngboost_ngboost']:.0f}x | {r['ratio_to_lightgbm_fisher']:.2f}x "
            f"| {r['ratio_to_lightgbm_ngboost']:.2f}x |"
        )
    return "\n".join(lines)


def accuracy_table(data: dict) -> str:
    rules = list(data)
    header = "| dataset | NGBoost published NLL |"
    sep = "| --- | --- |"
    for rule in rules:
        header += f" {rule}: NLL mean ± sd (se) | {rule}: RMSE mean ± sd |"
        sep += " --- | --- |"
    lines = [header, sep]
    names = list(data[rules[0]])
    for name in names:
        first = data[rules[0]][name]
        pub = first["published_nll"]
        row = f"| {name} | {pub[0]:.2f} ± {pub[1]:.2f} |"
        for rule in rules:
            r = data[rule].get(name)
            if r is None:
                row += " – | – |"
                continue
            nll, rmse = r["nll"], r["rmse"]
            mark = "**" if nll[0] < pub[0] else ""
            row += (
                f" {mark}{nll[0]:.3f}{mark} ± {nll[1]:.3f} ({nll[2]:.3f}) "
                f"| {rmse[0]:.3f} ± {rmse[1]:.3f} |"
            )
        lines.append(row)
    for rule in rules:
        better = sum(r["nll"][0] < r["published_nll"][0] for r in data[rule].values())
        worse = sum(r["verdict"] == "WORSE" for r in data[rule].values())
        lines.append("")
        lines.append(
            f"{rule}: better than NGBoost's published mean NLL on {better} of {len(data[rule])} "
            f"datasets; worse by more than its published sd on {worse}."
        )
    return "\n".join(lines)


def scale_table(data: dict) -> str:
    lines = [
        "| rows | fit time (s) | s per stage | s per stage per 1M rows | peak RSS (MiB) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['rows']:,} | {r['seconds']:.1f} | {r['seconds_per_stage']:.4f} "
            f"| {r['seconds_per_stage_per_million_rows']:.4f} | {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def _pm(pair: list[float], digits: int = 3) -> str:
    return f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"


def classification_table(data: dict) -> str:
    st = data["settings"]
    lines = [
        f"{st['stages']} stages, depth {st['max_depth']}, learning rate {st['learning_rate']}, "
        f"min_samples_leaf {st['min_samples_leaf']}, {st['splits']} stratified folds; "
        "mean ± sd over folds; time ratio of median fit times.",
        "",
        "| dataset | rows | classes | side | test log loss | test accuracy | NGBoost / natgrad "
        "time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["results"]:
        s = r["summary"]
        for side, label in (
            ("natgrad_fisher", "natgrad (fisher)"),
            ("natgrad_ngboost", "natgrad (ngboost rule)"),
            ("ngboost", "NGBoost"),
        ):
            ratio = s.get(f"speedup_vs_ngboost_{side.removeprefix('natgrad_')}")
            ratio = ratio if side.startswith("natgrad_") else None
            lines.append(
                f"| {r['dataset']} | {r['n_rows']} | {r['n_classes']} | {label} "
                f"| {_pm(s[side]['log_loss'])} | {_pm(s[side]['accuracy'])} "
                f"| {'–' if ratio is None else f'{ratio:.1f}x'} |"
            )
    return "\n".join(lines)


def survival_table(data: dict) -> str:
    st = data["settings"]
    lines = [
        f"LogNormal, {st['stages']} stages, depth {st['max_depth']}, learning rate "
        f"{st['learning_rate']}, min_samples_leaf {st['min_samples_leaf']}, {st['splits']} "
        "splits; mean ± sd over splits; time ratio of median fit times.",
        "",
        "| dataset | train rows | censored | side | concordance | test censored NLL "
        "| NGBoost / natgrad time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["results"]:
        s = r["summary"]
        for side, label in (
            ("natgrad_fisher", "natgrad (fisher)"),
            ("natgrad_ngboost", "natgrad (ngboost rule)"),
            ("ngboost", "NGBoost"),
            ("oracle", "true model"),
        ):
            if side not in s:
                continue
            ratio = s.get(f"speedup_vs_ngboost_{side.removeprefix('natgrad_')}")
            ratio = ratio if side.startswith("natgrad_") else None
            lines.append(
                f"| {r['dataset']} | {r['n_train']} | {100 * r['censored_share']:.0f} % | {label} "
                f"| {_pm(s[side]['concordance'])} | {_pm(s[side]['censored_nll'])} "
                f"| {'–' if ratio is None else f'{ratio:.1f}x'} |"
            )
    return "\n".join(lines)


def mvn_table(data: dict) -> str:
    st = data["settings"]
    lines = [
        f"{st['rows']} training and {st['test_rows']} test rows, {st['features']} features, "
        f"{st['stages']} stages, depth 3, learning rate 0.01; natgrad median of "
        f"{st['repeats']} fits after a warm-up, NGBoost {st['ngboost_repeats']}. 'Stages to "
        "match': the first stage of a longer natgrad fit whose test NLL reaches NGBoost's.",
        "",
        "| k | parameters | natgrad leaf rule | NGBoost / natgrad time | test NLL natgrad "
        "| test NLL NGBoost | test NLL marginal | stages to match | speed-up at equal NLL |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["results"]:
        for rule in ("fisher", "ngboost"):
            lines.append(
                f"| {r['k']} | {r['n_params']} | {rule} "
                f"| {r[f'speedup_vs_ngboost_{rule}']:.1f}x | {r[f'nll_natgrad_{rule}']:.3f} "
                f"| {r['nll_ngboost']:.3f} | {r['nll_marginal']:.3f} "
                f"| {r[f'stages_to_match_ngboost_{rule}']} "
                f"| {r[f'speedup_at_equal_nll_{rule}']:.1f}x |"
            )
    return "\n".join(lines)


def main() -> None:
    for name, render in (
        ("speed", speed_table),
        ("scale", scale_table),
        ("classification", classification_table),
        ("survival", survival_table),
        ("mvn", mvn_table),
    ):
        path = RESULTS / f"{name}.json"
        if path.exists():
            print(f"## {name}\n")
            print(render(json.loads(path.read_text())))
            print()
    # One column pair per (file, rule): several files hold the same rule under different
    # settings (the default row subsample, all rows, half the rows).
    accuracy: dict = {}
    for path in sorted(RESULTS.glob("accuracy*.json")):
        for rule, rows in json.loads(path.read_text()).items():
            accuracy[f"{rule} ({path.stem})"] = rows
    if accuracy:
        print("## accuracy\n")
        print(accuracy_table(accuracy))


if __name__ == "__main__":
    main()
