/* The offices' page. It holds no rule: it signs in with a bearer token and calls the same JSON
 * API a client would (Authorization: Bearer), so the server decides every figure and every
 * refusal. No inline script or handler anywhere, so a Content-Security-Policy of
 * default-src 'self' holds. */
(function () {
  "use strict";

  var API = "/api/v1";
  var TOKEN_KEY = "kjfp.token"; // sessionStorage: this tab only
  var IDS_KEY = "kjfp.ids"; // localStorage: campaign / programme / round ids (not secret)
  var PAGE = 50;

  var METRICS = [
    ["federations", "农技协联合会（联合体）", "个"],
    ["associations", "农技协", "个"],
    ["experts", "科技专家", "人"],
    ["households_paired", "结对帮扶建档立卡贫困户", "户"],
    ["people_in_paired_households", "帮扶户内人口", "人"],
    ["households_lifted", "脱贫户", "户"],
    ["people_lifted", "带动脱贫人数", "人"],
  ];
  var PEOPLE_METRICS = { people_in_paired_households: "人数", people_lifted: "脱贫人数" };
  var DEFINITIONS = {
    2017: [
      ["organisations", "支持农技协及联合会"],
      ["experts", "组织科技专家"],
      ["households_paired", "对接贫困户"],
      ["people_in_paired_households", "户内人数"],
    ],
    2020: [
      ["organisations", "支持农技协及联合会"],
      ["experts", "组织科技专家"],
      ["people_lifted", "带动脱贫人数"],
    ],
  };
  var ROLES = {
    national_office: "全国科技助力精准扶贫办",
    provincial_office: "省级领导小组办公室",
    society: "全国学会",
    county_association: "市县科协 / 农技协",
    inspector: "督查组",
    expert: "科技专家",
    auditor: "审计",
  };
  var STATUSES = [
    ["open", "待整改"],
    ["in_progress", "整改中"],
    ["submitted", "已提交"],
    ["reopened", "重新整改"],
    ["verified", "已核验"],
  ];
  var NOMINATION_STATUS = {
    submitted: "已推荐",
    publicized: "已公示",
    withdrawn: "已撤回",
    conferred: "已表扬",
    revoked: "已撤销",
  };
  var CATEGORIES = { team: "先进团队", individual: "先进个人", organising_unit: "优秀组织单位" };
  var COLUMN_LABELS = {
    id_number: "身份证号（脱敏）",
    head_id_number: "户主身份证号（脱敏）",
    name: "姓名",
    head_name: "户主",
    code: "户编号",
    people: "人数",
    lifted_people: "脱贫人数",
    lifted_on: "脱贫日期",
    unit: "所属单位",
    province: "省",
    city: "市",
    county: "县",
    township: "乡镇",
    village: "村",
    credit_code: "统一社会信用代码",
    kind: "类别",
    level: "层级",
    expert_ids: "专家编号",
    positions: "事件位置",
    paired_by: "结对专家",
    registered_on: "登记日期",
    since: "起始日期",
  };

  var state = {
    token: null,
    claims: null,
    divisions: null,
    unit: null,
    asOf: null,
    explain: null,
    explainPaged: true,
  };

  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") {
        node.textContent = attrs[k];
      } else if (k === "className") {
        node.className = attrs[k];
      } else {
        node.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  }
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // -- messages and the API ---------------------------------------------------------------
  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.message = (body && body.message) || "HTTP " + status;
  }
  function showError(err) {
    var box = $("message");
    box.className = "message";
    if (err instanceof ApiError) {
      var prefix =
        {
          401: "未登录或令牌已失效",
          403: "无权访问（403）",
          404: "未找到",
          400: "请求有误",
          422: "不符合规则",
          503: "服务暂不可用",
        }[err.status] || "错误 " + err.status;
      var details = Object.keys(err.body.details || {})
        .map(function (k) {
          return k + "：" + [].concat(err.body.details[k]).join("；");
        })
        .join("，");
      box.textContent = prefix + " — " + err.message + (details ? "（" + details + "）" : "");
      box.setAttribute("data-status", String(err.status));
    } else {
      box.textContent = "出错了：" + (err && err.message ? err.message : String(err));
      box.removeAttribute("data-status");
    }
    box.hidden = false;
    if (err instanceof ApiError && err.status === 401) {
      signOut(true);
    }
  }
  function clearMessage() {
    $("message").hidden = true;
    $("message").removeAttribute("data-status");
  }

  function request(method, path, params, options) {
    options = options || {};
    var query = Object.keys(params || {})
      .filter(function (k) {
        return params[k] !== undefined && params[k] !== null && params[k] !== "";
      })
      .map(function (k) {
        return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
      })
      .join("&");
    var headers = { Authorization: "Bearer " + state.token };
    if (!options.raw && !(options.body instanceof FormData)) {
      headers["Accept"] = "application/json";
    }
    return fetch(API + path + (query ? "?" + query : ""), {
      method: method,
      headers: headers,
      body: options.body,
      cache: "no-store",
      credentials: "omit",
    }).then(function (response) {
      if (response.ok && options.raw) {
        return response;
      }
      return response.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = { message: text.slice(0, 200) };
        }
        if (!response.ok) {
          throw new ApiError(response.status, body);
        }
        return body;
      });
    });
  }
  function get(path, params) {
    return request("GET", path, params);
  }

  // -- signing in ---------------------------------------------------------------------------
  function decodeClaims(token) {
    // For display and for offering units only: the server checks the signature and decides.
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (part.length % 4) {
        part += "=";
      }
      var bytes = Uint8Array.from(atob(part), function (c) {
        return c.charCodeAt(0);
      });
      var claims = JSON.parse(new TextDecoder("utf-8").decode(bytes));
      return claims && claims.role && claims.scope ? claims : null;
    } catch (e) {
      return null;
    }
  }
  function knownIds() {
    try {
      return JSON.parse(localStorage.getItem(IDS_KEY) || "{}");
    } catch (e) {
      return {};
    }
  }
  function remember(kind, id) {
    if (!id) {
      return;
    }
    var ids = knownIds();
    ids[kind] = (ids[kind] || []).filter(function (x) {
      return x !== id;
    });
    ids[kind].unshift(id);
    localStorage.setItem(IDS_KEY, JSON.stringify(ids));
  }
  function readFragment() {
    // /#token=…&unit=…&campaign=…: the fragment never reaches a server log; it is read and
    // removed from the address bar (and history) at once.
    if (!location.hash || location.hash.length < 2) {
      return {};
    }
    var found = {};
    location.hash
      .slice(1)
      .split("&")
      .forEach(function (pair) {
        var at = pair.indexOf("=");
        if (at > 0) {
          found[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1));
        }
      });
    history.replaceState(null, "", location.pathname + location.search);
    return found;
  }
  function signIn(token) {
    var claims = decodeClaims(token);
    if (!claims) {
      showError(new Error("这不是有效的访问令牌"));
      return false;
    }
    state.token = token;
    state.claims = claims;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("identity-role").textContent = ROLES[claims.role] || claims.role;
    $("identity-scope").textContent = unitLabel(claims.scope);
    $("identity").hidden = false;
    $("sign-in").hidden = true;
    $("workspace").hidden = false;
    return true;
  }
  function signOut(keepMessage) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.claims = null;
    $("identity").hidden = true;
    $("workspace").hidden = true;
    $("sign-in").hidden = false;
    if (!keepMessage) {
      clearMessage();
    }
  }

  // -- units --------------------------------------------------------------------------------
  function unitLabel(unit) {
    if (!unit || unit === "national") {
      return "全国";
    }
    var kind = unit.slice(0, unit.indexOf(":")),
      path = unit.slice(unit.indexOf(":") + 1).split("/");
    return kind === "society" ? path[0] : path.join(" ");
  }
  function scopeParts() {
    var scope = state.claims.scope;
    if (scope === "national") {
      return { kind: "national", path: [] };
    }
    return { kind: scope.slice(0, scope.indexOf(":")), path: scope.slice(scope.indexOf(":") + 1).split("/") };
  }
  function option(value, label) {
    return el("option", { value: value, text: label });
  }
  function fillUnitPicker(wanted) {
    var scope = scopeParts(),
      top = clear($("unit-top"));
    var provinces = Object.keys(state.divisions || {}).filter(function (p) {
      return ["台湾", "香港", "澳门"].indexOf(p) < 0;
    });
    if (scope.kind === "national") {
      top.appendChild(option("national", "全国"));
      provinces.forEach(function (p) {
        top.appendChild(option("province:" + p, p));
      });
      top.appendChild(option("society", "全国学会…"));
    } else if (scope.kind === "society") {
      top.appendChild(option("society:" + scope.path[0], scope.path[0]));
    } else {
      top.appendChild(option("province:" + scope.path[0], scope.path[0]));
    }
    top.disabled = top.options.length < 2;
    var start = wanted || state.claims.scope;
    var parts =
      start === "national"
        ? ["national"]
        : [start.slice(0, start.indexOf(":")), start.slice(start.indexOf(":") + 1)];
    var path = parts[1] ? parts[1].split("/") : [];
    if (parts[0] === "society") {
      if (!selectValue(top, "society:" + path[0])) {
        if (scope.kind === "national") {
          top.value = "society";
          $("unit-society").value = path[0];
        } else {
          top.appendChild(option("society:" + path[0], path[0] + "（链接指定）"));
          top.value = "society:" + path[0];
        }
      }
    } else if (parts[0] !== "national") {
      if (!selectValue(top, "province:" + path[0])) {
        // A link may name a unit outside the token's scope: it is asked for all the same and the
        // server's answer (403) is shown.
        top.appendChild(option("province:" + path[0], path[0] + "（链接指定）"));
        top.value = "province:" + path[0];
        top.disabled = false;
      }
    }
    topChanged(path[1], path[2]);
  }
  function selectValue(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) {
        select.value = value;
        return true;
      }
    }
    return false;
  }
  function topChanged(city, county) {
    var top = $("unit-top").value,
      scope = scopeParts();
    $("society-label").hidden = top !== "society";
    var citySelect = clear($("unit-city")),
      countySelect = clear($("unit-county"));
    citySelect.appendChild(option("", "（全部）"));
    countySelect.appendChild(option("", "（全部）"));
    var province = top.indexOf("province:") === 0 ? top.slice(9) : null;
    var cities = province && state.divisions && state.divisions[province] ? state.divisions[province] : {};
    Object.keys(cities).forEach(function (c) {
      citySelect.appendChild(option(c, c));
    });
    if (scope.kind === "city" || scope.kind === "county") {
      clear(citySelect).appendChild(option(scope.path[1], scope.path[1]));
    }
    if (city) {
      selectValue(citySelect, city);
    }
    citySelect.disabled = !province || scope.kind === "city" || scope.kind === "county";
    cityChanged(county);
  }
  function cityChanged(county) {
    var top = $("unit-top").value,
      city = $("unit-city").value,
      scope = scopeParts();
    var countySelect = clear($("unit-county"));
    countySelect.appendChild(option("", "（全部）"));
    var province = top.indexOf("province:") === 0 ? top.slice(9) : null;
    var counties =
      province && city && state.divisions && state.divisions[province]
        ? state.divisions[province][city] || []
        : [];
    counties.forEach(function (c) {
      countySelect.appendChild(option(c, c));
    });
    if (scope.kind === "county") {
      clear(countySelect).appendChild(option(scope.path[2], scope.path[2]));
    }
    if (county) {
      selectValue(countySelect, county);
    }
    countySelect.disabled = !city || scope.kind === "county";
  }
  function chosenUnit() {
    var top = $("unit-top").value,
      city = $("unit-city").value,
      county = $("unit-county").value;
    if (top === "society") {
      var name = $("unit-society").value.trim();
      return name ? "society:" + name : null;
    }
    if (top.indexOf("province:") !== 0) {
      return top;
    }
    var province = top.slice(9);
    if (county) {
      return "county:" + province + "/" + city + "/" + county;
    }
    if (city) {
      return "city:" + province + "/" + city;
    }
    return top;
  }

  // -- 两数 ---------------------------------------------------------------------------------
  function loadCounts() {
    clearMessage();
    var unit = chosenUnit(),
      asOf = $("as-of").value || today();
    if (!unit) {
      showError(new Error("请填写学会名称"));
      return Promise.resolve();
    }
    state.unit = unit;
    state.asOf = asOf;
    $("records").hidden = true;
    $("counts-view").setAttribute("data-unit", unit);
    return get("/two-counts", { unit: unit, as_of: asOf })
      .then(function (counts) {
        renderCounts(counts);
        $("counts-view").hidden = false;
        return Promise.all([loadTrend(unit, asOf), loadCheckpoint(counts.positions || {}, (counts.checkpoints || {}).registry)]);
      })
      .catch(function (err) {
        $("counts-view").hidden = true;
        showError(err);
      });
  }
  function renderCounts(counts) {
    $("counts-unit").textContent = unitLabel(counts.unit);
    $("counts-as-of").textContent = counts.as_of;
    var body = clear($("figures"));
    METRICS.forEach(function (m) {
      var value = counts[m[0]],
        target = (counts.targets || {})[m[0]];
      var ratio = (counts.completion || {})[m[0]];
      var figure = el("a", {
        href: "#",
        className: "figure",
        "data-metric": m[0],
        title: "查看构成该数字的记录",
        text: String(value),
      });
      figure.addEventListener("click", function (event) {
        event.preventDefault();
        openRecords(m[0], value);
      });
      var bar = el(
        "div",
        { className: "bar" + (ratio !== null && ratio !== undefined && ratio < 0.9 ? " behind" : "") },
        [el("span")],
      );
      bar.firstChild.style.width = (ratio ? Math.min(ratio, 1) * 100 : 0) + "%";
      var completion = el("div", { className: "completion" }, [
        bar,
        el("b", {
          text: ratio === null || ratio === undefined ? "未设目标" : (ratio * 100).toFixed(1) + "%",
        }),
      ]);
      body.appendChild(
        el("tr", {}, [
          el("td", { text: m[1] + "（" + m[2] + "）" }),
          el("td", { className: "num" }, [figure]),
          el("td", {
            className: "num",
            "data-target": m[0],
            text: target === null || target === undefined ? "—" : String(target),
          }),
          el("td", {}, [completion]),
        ]),
      );
    });
    ["2017", "2020"].forEach(function (year) {
      var list = clear($("definition-" + year)),
        figures = (counts.definitions || {})[year] || {};
      DEFINITIONS[year].forEach(function (d) {
        var value =
          figures[d[0]] !== undefined
            ? figures[d[0]]
            : d[0] === "organisations"
              ? counts.federations + counts.associations
              : counts[d[0]];
        list.appendChild(
          el("div", {}, [
            el("dt", { text: d[1] }),
            el("dd", { "data-definition": year + ":" + d[0], text: String(value) }),
          ]),
        );
      });
    });
    var positions = counts.positions || {};
    $("positions").textContent = Object.keys(positions)
      .map(function (s) {
        return s + " #" + positions[s];
      })
      .join("，");
  }
  function loadCheckpoint(positions, named) {
    var line = $("checkpoint");
    if (state.claims.role !== "auditor") {
      line.textContent = "签名检查点：审计角色可见（kjfp audit verify 可独立核验）";
      return Promise.resolve();
    }
    return get("/audit/checkpoints", { service: "registry" })
      .then(function (body) {
        var list = (body && body.checkpoints) || [];
        var at = positions.registry || 0;
        var covering =
          list.filter(function (c) {
            return c.position >= at;
          })[0] || list[list.length - 1];
        if (!covering) {
          line.textContent = "尚无检查点";
          return;
        }
        clear(line).appendChild(document.createTextNode("哈希链检查点：位置 #" + covering.position + "，"));
        line.appendChild(el("code", { text: covering.hash }));
        // The signed Merkle checkpoint (a C2SP note) that vouches for the figures: the one the
        // answer names; from a server that names none, the first served at or past their position.
        if (!named) {
          var notes = (body && body.signed) || [];
          var sizes = (body && body.signed_checkpoints) || [];
          var index = sizes.findIndex(function (c) {
            return c.position >= at;
          });
          if (index < 0) {
            index = notes.length - 1;
          }
          if (index >= 0 && typeof notes[index] === "string") {
            named = { note: notes[index], tree_size: (sizes[index] || {}).tree_size };
          }
        }
        if (named) {
          line.appendChild(document.createTextNode("；签名检查点（树大小 " + named.tree_size + "）："));
          line.appendChild(el("pre", { className: "note-text", "data-signed-checkpoint": "", text: named.note }));
        }
      })
      .catch(function (err) {
        line.textContent = err.status === 403 ? "签名检查点：审计角色可见" : "检查点暂不可读";
      });
  }
  function monthEnds(asOf) {
    var year = Number(asOf.slice(0, 4)),
      ends = [];
    for (var m = 1; m <= 12; m++) {
      var end = year + "-" + pad(m) + "-" + pad(new Date(year, m, 0).getDate());
      if (end >= asOf) {
        ends.push(asOf);
        break;
      }
      ends.push(end);
    }
    return ends;
  }
  function loadTrend(unit, asOf) {
    var ends = monthEnds(asOf);
    $("trend-year").textContent = asOf.slice(0, 4);
    return Promise.all(
      ends.map(function (end) {
        return get("/two-counts", { unit: unit, as_of: end });
      }),
    )
      .then(function (points) {
        drawTrend(ends, points);
      })
      .catch(function () {
        clear($("trend")).appendChild(el("p", { className: "note", text: "逐月数据暂不可读" }));
      });
  }
  function drawTrend(ends, points) {
    var box = clear($("trend")),
      NS = "http://www.w3.org/2000/svg",
      W = 260,
      H = 110,
      L = 34,
      B = 16,
      T = 8,
      R = 14;
    function svg(tag, attrs) {
      var node = document.createElementNS(NS, tag);
      Object.keys(attrs).forEach(function (k) {
        node.setAttribute(k, attrs[k]);
      });
      return node;
    }
    METRICS.forEach(function (m) {
      var values = points.map(function (p) {
        return p[m[0]];
      });
      var max = Math.max.apply(null, values.concat([1])),
        n = 12;
      function x(i) {
        return L + ((W - L - R) * i) / (n - 1);
      }
      function y(v) {
        return T + (H - T - B) * (1 - v / max);
      }
      var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": m[1] });
      chart.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
      chart.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
      [
        [max, T + 3],
        [0, H - B],
      ].forEach(function (tick) {
        var label = svg("text", { x: L - 4, y: tick[1], "text-anchor": "end" });
        label.textContent = String(tick[0]);
        chart.appendChild(label);
      });
      [1, 3, 6, 9, 12].forEach(function (month) {
        var label = svg("text", { x: x(month - 1), y: H - 4, "text-anchor": "middle" });
        label.textContent = month + "月";
        chart.appendChild(label);
      });
      var line = values
        .map(function (v, i) {
          return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
        })
        .join(" ");
      if (values.length) {
        chart.appendChild(
          svg("path", {
            d:
              line +
              " L" +
              x(values.length - 1).toFixed(1) +
              " " +
              (H - B) +
              " L" +
              x(0).toFixed(1) +
              " " +
              (H - B) +
              " Z",
            class: "area",
          }),
        );
        chart.appendChild(svg("path", { d: line, class: "line" }));
        values.forEach(function (v, i) {
          var dot = svg("circle", { cx: x(i), cy: y(v), r: 2.2, class: "dot" });
          var tip = svg("title", {});
          tip.textContent = ends[i] + "：" + v;
          dot.appendChild(tip);
          chart.appendChild(dot);
        });
      }
      box.appendChild(
        el("figure", { "data-trend": m[0] }, [
          el("figcaption", {}, [
            el("span", { text: m[1] }),
            el("b", { text: String(values[values.length - 1]) }),
          ]),
          chart,
        ]),
      );
    });
  }

  // -- drill-down ---------------------------------------------------------------------------
  function openRecords(metric, figure) {
    clearMessage();
    var label = METRICS.filter(function (m) {
      return m[0] === metric;
    })[0][1];
    state.explain = {
      metric: metric,
      unit: state.unit,
      asOf: state.asOf,
      cursor: null,
      shown: 0,
      all: null,
      figure: figure,
    };
    $("records-title").textContent = label + " · " + unitLabel(state.unit) + " · 截至 " + state.asOf;
    clear($("records-head"));
    clear($("records-body"));
    $("records-figure").textContent = String(figure);
    $("records-total").textContent = "…";
    $("records-people").textContent = "";
    return nextRecords();
  }
  function explainParams(extra) {
    var e = state.explain;
    var params = { unit: e.unit, metric: e.metric, as_of: e.asOf };
    Object.keys(extra || {}).forEach(function (k) {
      params[k] = extra[k];
    });
    return params;
  }
  function nextRecords() {
    var e = state.explain;
    if (e.all) {
      return Promise.resolve(
        showPage(e.all.slice(e.shown, e.shown + PAGE), e.all.length, e.shown + PAGE < e.all.length),
      );
    }
    var paging = state.explainPaged ? { limit: PAGE, cursor: e.cursor } : {};
    return get("/two-counts/explain", explainParams(paging))
      .then(function (body) {
        if (!("next_cursor" in body)) {
          // The unpaged contract (every record at once): page through it here.
          e.all = body.records || [];
          return showPage(e.all.slice(0, PAGE), e.all.length, e.all.length > PAGE, body);
        }
        e.cursor = body.next_cursor;
        return showPage(
          body.records || [],
          body.records_total !== undefined ? body.records_total : null,
          !!body.next_cursor,
          body,
        );
      })
      .catch(function (err) {
        var details = err.body && err.body.details;
        if (state.explainPaged && err.status === 400 && details && (details.limit || details.cursor)) {
          state.explainPaged = false; // a server without paging yet
          return nextRecords();
        }
        if (!e.shown) {
          $("records").hidden = true;
        } // refused: no empty list under the message
        showError(err);
      });
  }
  function columnsOf(records) {
    var columns = [];
    records.forEach(function (r) {
      Object.keys(r).forEach(function (k) {
        if (columns.indexOf(k) < 0 && k !== "location") {
          columns.push(k);
        }
      });
      if (r.location) {
        ["province", "city", "county", "township", "village"].forEach(function (k) {
          if (columns.indexOf(k) < 0) {
            columns.push(k);
          }
        });
      }
    });
    return columns;
  }
  function cell(record, column) {
    var value = record[column] !== undefined ? record[column] : (record.location || {})[column];
    if (value === null || value === undefined) {
      return "";
    }
    if (Array.isArray(value)) {
      return value.join("、");
    }
    if (typeof value === "object") {
      return JSON.stringify(value);
    }
    return String(value);
  }
  function showPage(records, total, more, body) {
    var e = state.explain;
    $("records").hidden = false;
    var head = $("records-head");
    if (!head.firstChild && records.length) {
      e.columns = columnsOf(records);
      head.appendChild(
        el(
          "tr",
          {},
          [el("th", { className: "num", text: "序号" })].concat(
            e.columns.map(function (c) {
              return el("th", { text: COLUMN_LABELS[c] || c });
            }),
          ),
        ),
      );
    }
    var rows = $("records-body");
    records.forEach(function (r) {
      e.shown += 1;
      rows.appendChild(
        el(
          "tr",
          { "data-record": "" },
          [el("td", { className: "num", text: String(e.shown) })].concat(
            (e.columns || []).map(function (c) {
              return el("td", { text: cell(r, c) });
            }),
          ),
        ),
      );
    });
    if (body) {
      $("records-figure").textContent = String(body.figure !== undefined ? body.figure : body.total);
    }
    var people = PEOPLE_METRICS[e.metric];
    if (total === null || total === undefined) {
      // Paged: the figure counts records, or (for people) sums them; the count is the figure then.
      total = people ? null : body && body.total !== undefined ? body.total : e.figure;
    }
    $("records-total").textContent = total === null ? "若干" : String(total);
    $("records-people").textContent = people ? "（该数字为这些记录的" + people + "之和）" : "";
    if (e.shown === records.length) {
      $("records").scrollIntoView({ block: "start" });
    }
    $("records-range").textContent = "已显示 " + e.shown + " 条";
    $("records-more").hidden = !more;
  }
  function downloadCsv() {
    var e = state.explain;
    clearMessage();
    $("records-csv").disabled = true;
    // The token goes in the Authorization header, never in a URL: fetch, then save a Blob.
    return request("GET", "/two-counts/explain", explainParams({ format: "csv" }), { raw: true })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("csv") >= 0) {
          return response.blob();
        }
        return response.json().then(function (body) {
          return new Blob([toCsv(body.records || [])], { type: "text/csv" });
        });
      })
      .catch(function (err) {
        if (err.status === 400) {
          // a server without format=csv yet: every record, as CSV here
          return get("/two-counts/explain", explainParams()).then(function (body) {
            return new Blob([toCsv(body.records || [])], { type: "text/csv" });
          });
        }
        throw err;
      })
      .then(function (blob) {
        var link = el("a", {
          href: URL.createObjectURL(blob),
          download: "两数_" + e.metric + "_" + unitLabel(e.unit).replace(/ /g, "-") + "_" + e.asOf + ".csv",
        });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () {
          URL.revokeObjectURL(link.href);
        }, 10000);
      })
      .catch(showError)
      .then(function () {
        $("records-csv").disabled = false;
      });
  }
  function toCsv(records) {
    var columns = columnsOf(records);
    function quote(v) {
      return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
    }
    return (
      "\ufeff" +
      [columns.join(",")]
        .concat(
          records.map(function (r) {
            return columns
              .map(function (c) {
                return quote(cell(r, c));
              })
              .join(",");
          }),
        )
        .join("\n") +
      "\n"
    );
  }

  // -- supervision --------------------------------------------------------------------------
  function reportingUnit() {
    var scope = scopeParts();
    if (scope.kind === "national") {
      return null;
    }
    return scope.kind === "society" ? state.claims.scope : "province:" + scope.path[0];
  }
  function loadCampaigns(selected) {
    var select = $("campaign"),
      ids = (knownIds().campaign || []).slice(),
      listed = [];
    // The campaigns as launched (GET /campaigns), and any other this browser was given (a link, or
    // an id typed in).
    return get("/campaigns", { limit: 100 })
      .then(function (body) {
        listed = body.items || [];
      })
      .catch(function () {
        /* an unreadable list leaves the known ids */
      })
      .then(function () {
        var known = listed.map(function (c) {
          return c.id;
        });
        return Promise.all(
          ids
            .filter(function (id) {
              return known.indexOf(id) < 0;
            })
            .map(function (id) {
              return get("/campaigns/" + encodeURIComponent(id)).catch(function () {
                return null;
              });
            }),
        );
      })
      .then(function (others) {
        return listed.slice().reverse().concat(others);
      })
      .then(function (campaigns) {
        clear(select);
        campaigns.filter(Boolean).forEach(function (c) {
          select.appendChild(option(c.id, c.year + " · " + c.name));
        });
        if (!select.options.length) {
          select.appendChild(option("", "（暂无，可输入编号添加）"));
        }
        if (selected) {
          selectValue(select, selected);
        }
        state.campaigns = {};
        campaigns.filter(Boolean).forEach(function (c) {
          state.campaigns[c.id] = c;
        });
        campaignChanged();
      });
  }
  function campaignChanged() {
    var campaign = (state.campaigns || {})[$("campaign").value],
      select = clear($("table-unit"));
    if (!campaign) {
      return;
    }
    var mine = reportingUnit();
    campaign.units
      .filter(function (u) {
        return !mine || u === mine;
      })
      .forEach(function (u) {
        select.appendChild(option(u, unitLabel(u)));
      });
    if (mine && campaign.units.indexOf(mine) < 0) {
      select.appendChild(option(mine, unitLabel(mine)));
    }
    $("rect-as-of").value = $("rect-as-of").value || today();
  }
  function loadSupervision() {
    clearMessage();
    var id = $("campaign").value,
      unit = $("table-unit").value,
      asOf = $("rect-as-of").value || today();
    var campaign = (state.campaigns || {})[id];
    if (!campaign) {
      showError(new Error("请先选择或添加督查活动"));
      return Promise.resolve();
    }
    renderCampaign(campaign);
    var table = get("/campaigns/" + encodeURIComponent(id) + "/statistics-table", { unit: unit })
      .then(renderStatistics)
      .catch(function (err) {
        $("statistics").hidden = true;
        showError(err);
      });
    var scoped =
      ["national_office", "auditor", "inspector"].indexOf(state.claims.role) >= 0 ? null : state.claims.scope;
    var items = Promise.all([
      get("/rectifications", { campaign: id, unit: scoped, as_of: asOf, limit: 500 }),
      get("/rectifications/summary", { campaign: id, unit: scoped, as_of: asOf }),
    ])
      .then(function (r) {
        renderRectification(r[0].items || [], r[1], asOf);
      })
      .catch(function (err) {
        $("rectification").hidden = true;
        showError(err);
      });
    return Promise.all([table, items]);
  }
  function renderCampaign(c) {
    var box = clear($("campaign-info"));
    box.appendChild(el("h3", { text: c.name }));
    box.appendChild(
      el("p", {
        className: "note",
        text:
          "统计截止 " +
          c.cutoff +
          " · 自查报送截止 " +
          c.self_inspection_due +
          " · 实地督查 " +
          c.field_inspection_start +
          "至" +
          c.field_inspection_end +
          " · 反馈 " +
          c.feedback_due +
          " · 整改截止 " +
          c.rectification_due +
          " · 覆盖 " +
          c.units.map(unitLabel).join("、") +
          (c.closed_on ? " · 已结束 " + c.closed_on : ""),
      }),
    );
    box.hidden = false;
  }
  function show(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (value === true) {
      return "是";
    }
    if (value === false) {
      return "否";
    }
    if (typeof value === "object") {
      return Object.keys(value)
        .map(function (k) {
          return value[k] + ({ households: "户", people: "人" }[k] || " " + k);
        })
        .join(" / ");
    }
    return String(value);
  }
  function renderStatistics(table) {
    var body = clear($("statistics-table"));
    table.items.forEach(function (item) {
      var row = el("tr", { "data-item": String(item.no), className: item.discrepancy ? "discrepancy" : "" }, [
        el("td", { className: "num", text: String(item.no) }),
        el("td", { text: item.label.split(" ")[0] }),
        el("td", { className: "num", text: show(item.declared) }),
        el("td", {
          className: "num",
          text: item.source === "declared" ? "（自报项）" : show(item.registered),
        }),
        el("td", {
          className: "check " + (item.discrepancy ? "bad" : "ok"),
          text: item.discrepancy ? "不一致" : item.available === false ? "无数据" : "一致",
        }),
      ]);
      body.appendChild(row);
    });
    var discrepancies = table.items.filter(function (i) {
      return i.discrepancy;
    }).length;
    $("statistics-note").textContent =
      unitLabel(table.unit) +
      " · 登记数据截至 " +
      table.as_of +
      (table.filed
        ? " · 自查报告 " + table.submitted_on + (table.late ? "（逾期报送）" : "")
        : " · 未报送自查报告") +
      " · " +
      (discrepancies ? discrepancies + " 项不一致" : "全部一致");
    $("statistics").hidden = false;
  }
  function renderRectification(items, summary, asOf) {
    var box = clear($("rect-columns"));
    STATUSES.forEach(function (s) {
      var mine = items.filter(function (i) {
        return i.status === s[0];
      });
      var column = el("div", { className: "column", "data-status": s[0] }, [
        el("h4", { text: s[1] + "（" + mine.length + "）" }),
      ]);
      mine.forEach(function (i) {
        column.appendChild(
          el("div", { className: "item" + (i.overdue ? " overdue" : ""), "data-rectification": i.id }, [
            el("div", { className: "unit", text: unitLabel(i.unit) }),
            el("div", { text: i.description || "" }),
            el("div", { className: "note" }, [
              "整改期限 " + i.due + " ",
              i.overdue ? el("span", { className: "badge bad", text: "逾期" }) : el("span", { text: "" }),
            ]),
          ]),
        );
      });
      box.appendChild(column);
    });
    $("rect-summary").textContent =
      "截至 " +
      asOf +
      "：共 " +
      summary.total +
      " 项，未完成 " +
      summary.open +
      " 项，其中逾期 " +
      summary.overdue +
      " 项，已核验 " +
      summary.verified +
      " 项";
    $("rectification").hidden = false;
  }

  // -- funding and awards -------------------------------------------------------------------
  function loadFunding() {
    clearMessage();
    var programme = $("programme-id").value.trim(),
      round = $("round-id").value.trim();
    remember("programme", programme);
    remember("round", round);
    var work = [];
    if (programme) {
      work.push(
        loadProgramme(programme).catch(function (err) {
          $("programme").hidden = true;
          showError(err);
        }),
      );
    }
    if (round) {
      work.push(
        loadRound(round).catch(function (err) {
          $("award-round").hidden = true;
          showError(err);
        }),
      );
    }
    return Promise.all(work);
  }
  function loadProgramme(id) {
    return get("/programmes/" + encodeURIComponent(id)).then(function (p) {
      $("programme-name").textContent = p.name;
      $("programme-note").textContent =
        p.year +
        (p.until_year && p.until_year !== p.year ? "—" + p.until_year : "") +
        "年 · 审批层级 " +
        p.approval_levels.length +
        " 级 · " +
        (p.subsidy_fen_per_project_year
          ? "每项目每年补助 " + p.subsidy_fen_per_project_year / 100 + " 元"
          : "补助金额按项目") +
        " · 公示 " +
        p.notice_days +
        " 天。名额使用按地区统计（该地区同期各计划合计）。";
      var regions = Object.keys(p.quotas || {});
      return Promise.all(
        regions.map(function (r) {
          return get("/funding/summary", { unit: r });
        }),
      ).then(function (sums) {
        var body = clear($("quota-table"));
        sums.forEach(function (s, i) {
          var q = s.quota || {},
            total = p.quotas[regions[i]];
          var bar = el("div", { className: "bar" }, [el("span")]);
          bar.firstChild.style.width = (total ? Math.min(q.used / total, 1) * 100 : 0) + "%";
          body.appendChild(
            el("tr", { "data-region": regions[i], className: q.left === 0 ? "full" : "" }, [
              el("td", { text: unitLabel(regions[i]) }),
              el("td", { className: "num", text: String(total) }),
              el("td", { className: "num", "data-quota-used": "", text: String(q.used) }),
              el("td", { className: "num", text: String(q.left) }),
              el("td", {}, [bar]),
              el("td", { className: "num", text: String(s.disbursed_wan) }),
            ]),
          );
        });
        $("programme").hidden = false;
      });
    });
  }
  function loadRound(id) {
    return Promise.all([
      get("/award-rounds/" + encodeURIComponent(id)),
      get("/award-rounds/" + encodeURIComponent(id) + "/nominations"),
    ]).then(function (r) {
      var round = r[0],
        items = r[1].items || [];
      $("round-name").textContent = round.year + "年 · " + (round.name || "表扬轮次");
      var notice =
        {
          open: "推荐中（材料截止 " + round.deadline + "）",
          publicized:
            "公示期 " +
            round.notice_start +
            " 至 " +
            round.notice_end +
            (round.notice_end && round.notice_end < today() ? "（公示期已满，待确认表扬）" : "（公示中）"),
          commended: "已确认表扬 " + (round.commended_on || ""),
        }[round.status] || round.status;
      $("round-notice").textContent = "状态：" + notice + " · 推荐 " + items.length + " 个";
      $("round-notice").setAttribute("data-round-status", round.status);
      var body = clear($("nomination-table"));
      items.forEach(function (n) {
        var area = n.area ? [n.area.province, n.area.city, n.area.county].filter(Boolean).join(" ") : "";
        body.appendChild(
          el("tr", { "data-nomination": n.id }, [
            el("td", { text: CATEGORIES[n.category] || n.category }),
            el("td", { text: unitLabel(n.unit) }),
            el("td", { text: n.team_name || n.name || n.expert_name || n.nominee || "" }),
            el("td", { text: area }),
            el("td", {
              className: "num",
              text: n.people_lifted === undefined ? "—" : String(n.people_lifted),
            }),
            el("td", {}, [
              el("span", {
                className:
                  "badge" + (n.status === "publicized" ? " warn" : n.status === "conferred" ? " good" : ""),
                text: NOMINATION_STATUS[n.status] || n.status,
              }),
            ]),
          ]),
        );
      });
      $("award-round").hidden = false;
    });
  }

  // -- import -------------------------------------------------------------------------------
  function upload() {
    clearMessage();
    var file = $("import-file").files[0];
    if (!file) {
      return Promise.resolve();
    }
    var form = new FormData();
    form.append("file", file);
    $("import-upload").disabled = true;
    return request("POST", "/households/import", null, { body: form })
      .then(function (result) {
        $("import-counts").textContent = "";
        $("import-counts").appendChild(
          el("span", {}, [
            "新登记 ",
            el("b", { text: String(result.created) }),
            " 户 · 重复 ",
            el("b", { text: String(result.duplicate) }),
            " 户 · 拒收 ",
            el("b", { text: String(result.rejected) }),
            " 行",
          ]),
        );
        var body = clear($("import-table"));
        (result.rejections || []).forEach(function (r) {
          var reasons = Object.keys(r.reasons || {}).map(function (k) {
            return k + "：" + [].concat(r.reasons[k]).join("；");
          });
          body.appendChild(
            el("tr", { className: "rejected" }, [
              el("td", { className: "num", text: String(r.row) }),
              el("td", { text: r.code || "" }),
              el("td", { text: "拒收" }),
              el("td", { text: reasons.join("，") }),
            ]),
          );
        });
        (result.duplicates || []).forEach(function (r) {
          body.appendChild(
            el("tr", {}, [
              el("td", { className: "num", text: String(r.row) }),
              el("td", { text: r.code || "" }),
              el("td", { text: "已登记" }),
              el("td", { text: r.reason || "户编号已存在" }),
            ]),
          );
        });
        $("import-result").hidden = false;
      })
      .catch(showError)
      .then(function () {
        $("import-upload").disabled = false;
      });
  }

  // -- wiring -------------------------------------------------------------------------------
  function showTab(name) {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      b.classList.toggle("active", b.getAttribute("data-tab") === name);
    });
    ["counts", "supervision", "funding", "import"].forEach(function (t) {
      $("tab-" + t).hidden = t !== name;
    });
  }
  function start() {
    var fragment = readFragment();
    ["campaign", "programme", "round"].forEach(function (k) {
      remember(k, fragment[k]);
    });
    var token = fragment.token || sessionStorage.getItem(TOKEN_KEY);
    $("as-of").value = fragment.as_of || today();
    $("rect-as-of").value = today();
    var ids = knownIds();
    $("programme-id").value = (ids.programme || [])[0] || "";
    $("round-id").value = (ids.round || [])[0] || "";

    $("sign-in-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (signIn($("token-input").value.trim())) {
        $("token-input").value = "";
        enter({});
      }
    });
    $("sign-out").addEventListener("click", function () {
      signOut(false);
    });
    $("counts-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadCounts();
    });
    $("unit-top").addEventListener("change", function () {
      topChanged();
    });
    $("unit-city").addEventListener("change", function () {
      cityChanged();
    });
    $("records-more").addEventListener("click", function () {
      nextRecords();
    });
    $("records-close").addEventListener("click", function () {
      $("records").hidden = true;
    });
    $("records-csv").addEventListener("click", function () {
      downloadCsv();
    });
    $("supervision-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadSupervision();
    });
    $("campaign").addEventListener("change", campaignChanged);
    $("campaign-add").addEventListener("click", function () {
      var id = $("campaign-id").value.trim();
      if (id) {
        remember("campaign", id);
        $("campaign-id").value = "";
        loadCampaigns(id);
      }
    });
    $("funding-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadFunding();
    });
    $("import-form").addEventListener("submit", function (event) {
      event.preventDefault();
      upload();
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      b.addEventListener("click", function () {
        showTab(b.getAttribute("data-tab"));
      });
    });

    if (token && signIn(token)) {
      enter(fragment);
    } else {
      signOut(true);
    }
  }
  function enter(fragment) {
    var divisions = state.divisions
      ? Promise.resolve(state.divisions)
      : fetch("/assets/divisions.json")
          .then(function (r) {
            return r.json();
          })
          .catch(function () {
            return {};
          });
    divisions
      .then(function (tree) {
        state.divisions = tree;
        fillUnitPicker(fragment.unit);
        document.body.setAttribute("data-ready", "signed-in");
        return Promise.all([loadCounts(), loadCampaigns(fragment.campaign)]);
      })
      .then(function () {
        if ($("programme-id").value || $("round-id").value) {
          return loadFunding();
        }
      })
      .then(function () {
        document.body.setAttribute("data-ready", "loaded");
      });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
