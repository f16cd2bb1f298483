"""The statistics table (科技助力精准扶贫统计表, §000 attachment): what a unit declared in its
self-inspection beside what the registers and the funding ledger say as of the campaign's
cut-off, with every difference flagged (坚决杜绝不严不实、弄虚作假、数字脱贫)."""

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen

# (no, label, declared field, where the figure comes from)
ITEMS = (
    (1, "成立领导小组 leading group set up", "leading_group", "declared"),
    (2, "印发实施方案 plan issued", "plan_issued", "declared"),
    (3, "定期召开会议 regular meetings", "regular_meetings", "declared"),
    (
        4,
        "围绕六项任务开展工作、目标任务精准 tasks followed, targets precise",
        "tasks_and_targets_precise",
        "declared",
    ),
    (
        5,
        "开展结对帮扶、考核评估、督查、宣传 pairing, assessment, supervision, publicity done",
        "pairing_assessment_publicity",
        "declared",
    ),
    (6, "支持农技协联合会（联合体）数量 federations supported", "federations", "registers"),
    (7, "支持农技协数量 associations supported", "associations", "registers"),
    (8, "组织科技专家数量 experts organised", "experts", "registers"),
    (
        9,
        "帮扶建档立卡贫困户（户、人）households helped and their people",
        ("households", "people"),
        "registers",
    ),
    (
        10,
        "制定项目、资金管理办法 project and fund management measures",
        "fund_measures",
        "declared",
    ),
    (11, "支持项目资金（万元）funds of supported projects", "project_funds_wan", "funding ledger"),
)


def statistics_table(campaign, unit, report, counts, funds):
    """The table for one unit. ``report`` is its self-inspection (None if not filed), ``counts``
    the registry's 两数 as of the cut-off, ``funds`` the funding summary as of the cut-off (None
    when the funding ledger is not available: item 11 then says so instead of showing zero)."""
    registered = {
        "federations": counts["federations"],
        "associations": counts["associations"],
        "experts": counts["experts"],
        "households": counts["households_paired"],
        "people": counts["people_in_paired_households"],
    }
    items = []
    for no, label, field, source in ITEMS:
        item = {"no": no, "label": label, "source": source, "available": True}
        if source == "declared":
            item.update(
                declared=report.declared[field] if report else None,
                registered=None,
                discrepancy=False,
            )
        elif no == 9:
            item["declared"] = {k: report.figures[k] for k in field} if report else None
            item["registered"] = {k: registered[k] for k in field}
            item["discrepancy"] = report is not None and item["declared"] != item["registered"]
        elif no == 11:
            item["declared"] = report.figures[field] if report else None
            if funds is None:
                item.update(registered=None, available=False, discrepancy=None)
            else:
                item["registered"] = funds["disbursed_fen"] / FEN_PER_WAN
                item["discrepancy"] = (
                    report is not None
                    and round(report.figures[field] * FEN_PER_WAN) != funds["disbursed_fen"]
                )
        else:
            item["declared"] = report.figures[field] if report else None
            item["registered"] = registered[field]
            item["discrepancy"] = report is not None and item["declared"] != item["registered"]
        items.append(item)
    return {
        "unit": unit,
        "campaign_id": str(campaign.id),
        "as_of": campaign.cutoff,
        "filed": report is not None,
        "submitted_on": report.submitted_on if report else None,
        "late": bool(report and report.late),
        "items": items,
        "discrepancies": [item["no"] for item in items if item["discrepancy"]],
    }
