"""Ready programme configurations: request bodies of ``POST /programmes``.

The same engine serves both: Shandong's expert service action (a fixed subsidy per project-year,
a five-level chain, city quotas) and the 先行先试 pilot projects (free amounts, units subsidised,
a two-level chain, no quotas).
"""

# §004 附件2: 山东省科协精准扶贫专家服务行动名额分配表 (合计 240)
SHANDONG_CITY_QUOTAS = {
    "济南": 8,
    "淄博": 8,
    "枣庄": 8,
    "东营": 5,
    "烟台": 5,
    "潍坊": 15,
    "济宁": 15,
    "泰安": 12,
    "威海": 5,
    "日照": 5,
    "莱芜": 5,
    "临沂": 45,
    "德州": 30,
    "聊城": 15,
    "滨州": 15,
    "菏泽": 44,
}

SHANDONG = {
    "name": "山东省科协精准扶贫专家服务行动（2016~2018年）",
    "year": 2016,
    "until_year": 2018,
    "unit": "province:山东",
    # 技术培训类 / 产业技术类: individuals only; 科普教育类: individuals and units (§004 附件3 备注)
    "project_kinds": [
        {"code": "training", "applicants": ["individual"]},
        {"code": "industry", "applicants": ["individual"]},
        {"code": "popularisation", "applicants": ["individual", "unit"]},
    ],
    # 所在单位意见 → 县扶贫办核审 → 县级科协 → 市科协初审 → 省科协核准 (§004 附件3/4, 三 and 五)
    "approval_levels": [
        "applicant_unit",
        "county_poverty_office",
        "county_association",
        "city_association",
        "provincial_association",
    ],
    "level_scopes": {
        "applicant_unit": "county",
        "county_poverty_office": "county",
        "county_association": "county",
        "city_association": "city",
        "provincial_association": "province",
    },
    "subsidy_fen_per_project_year": 400_000,  # 每个项目每一实施年度内补助4000元
    "subsidise_units": False,  # 对有关单位和社会组织一般不予补助
    "subsidise_fully_budget_funded": False,  # 全额财政预算单位承担的科普教育类项目，不再重复补助
    "quotas": {f"city:山东/{city}": places for city, places in SHANDONG_CITY_QUOTAS.items()},
    # §004 says only "向社会进行公示"; seven days follows the one week of §002 三(五).
    "notice_days": 7,
}

PILOT = {
    "name": "科技助力精准扶贫先行先试项目",
    "year": 2016,
    "until_year": 2016,
    "unit": "national",
    "project_kinds": [
        {"code": "training", "applicants": ["individual", "unit"]},
        {"code": "industry", "applicants": ["individual", "unit"]},
        {"code": "popularisation", "applicants": ["individual", "unit"]},
    ],
    "approval_levels": ["provincial_office", "national_office"],
    "level_scopes": {"provincial_office": "province", "national_office": "national"},
    "subsidy_fen_per_project_year": None,  # free amounts: each project states its own (amount_fen)
    "subsidise_units": True,
    "subsidise_fully_budget_funded": False,
    "quotas": {},
    "notice_days": 7,
}

READY = {"shandong": SHANDONG, "pilot": PILOT}
