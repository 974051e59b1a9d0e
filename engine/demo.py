"""A realistic demo campus: units, people of every role, and findings played through the real loop."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from engine import admin, demo_places, services, timers
from engine.actors import SYSTEM, Actor, actor_for
from engine.db import utcnow
from engine.errors import InvalidInput
from engine.models import Finding, Unit, User, WorkflowVersion
from engine.notify import demo as notify_demo
from engine.places.config import loaded_config
from engine.unit_of_work import Store, UnitOfWork

UNITS = [  # code, name, name_en, parent
    ("GAD", "总务部", "General Affairs Department", None),
    ("OFFICE", "后勤管理办公室", "Logistics Management Office", "GAD"),
    ("PROP", "物业服务中心", "Property Service Centre", "GAD"),
    ("PROP-DORM", "宿舍管理科", "Dormitory Management Section", "PROP"),
    ("FOOD", "饮食服务中心", "Catering Service Centre", "GAD"),
    ("FOOD-C1", "第一食堂", "Canteen No. 1", "FOOD"),
    ("ENERGY", "能源服务中心", "Energy Service Centre", "GAD"),
    ("FEICUI", "翡翠湖校区管委会", "Feicui Lake Campus Management Committee", "GAD"),
]
# The catering centre serves seven days a week: its deadlines count weekends (not the statutory holidays).
UNIT_CALENDARS = {"FOOD": "catering"}
USERS = [  # name, display name, roles, unit
    ("wang.jun", "王军（巡查组组长）", "inspector", None),
    ("li.na", "李娜（巡查员）", "inspector", None),
    ("zhao.lei", "赵磊（巡查员）", "inspector", None),
    ("chen.ming", "陈明（总务部副部长）", "leader", None),
    ("gad.admin", "总务部系统管理员", "admin", None),
    ("sun.li", "孙丽（审计处）", "auditor", None),
    ("office.liu", "刘洋（后勤管理办公室）", "centre", "OFFICE"),
    ("prop.zhang", "张伟（物业服务中心）", "centre", "PROP"),
    ("dorm.he", "何静（宿舍管理科）", "centre", "PROP-DORM"),
    ("food.zhou", "周强（饮食服务中心）", "centre", "FOOD"),
    ("canteen1.wu", "吴敏（第一食堂）", "centre", "FOOD-C1"),
    ("energy.xu", "徐刚（能源服务中心）", "centre", "ENERGY"),
    ("feicui.ma", "马超（翡翠湖校区管委会）", "centre", "FEICUI"),
    ("student.2023001", "学生 林晓", "public", None),
    ("staff.huang", "教职工 黄老师", "public", None),
]
PLACES = {  # kind -> (place, responsible unit)
    "canteen": [("一食堂一楼", "FOOD-C1"), ("一食堂二楼", "FOOD-C1"), ("二食堂", "FOOD"),
                ("三食堂清真餐厅", "FOOD"), ("教工餐厅", "FOOD"), ("翡翠湖校区食堂", "FEICUI")],
    "dorm": [("学生公寓9号楼", "PROP-DORM"), ("学生公寓3号楼", "PROP-DORM"), ("研究生公寓2号楼", "PROP-DORM"),
             ("翡翠湖校区学生公寓5号楼", "FEICUI")],
    "building": [("主教学楼A座", "PROP"), ("第二教学楼", "PROP"), ("图书馆", "PROP"), ("体育馆", "PROP"),
                 ("行政楼", "PROP"), ("翡翠湖校区综合教学楼", "FEICUI")],
    "grounds": [("校园主干道", "PROP"), ("南区绿化带", "PROP"), ("东门广场", "PROP"), ("翡翠湖校区中心花园", "FEICUI")],
    "plant": [("锅炉房", "ENERGY"), ("北区配电房", "ENERGY"), ("学生公寓区开水房", "ENERGY"), ("南区水泵房", "ENERGY")],
    "hall": [("后勤服务大厅", "OFFICE"), ("校园班车东门站", "OFFICE")],
}


@dataclass(frozen=True)
class Template:
    """One kind of problem: where it happens, how it is titled and described, what the unit does about it."""

    category: str
    kinds: str
    title: str  # appended to the place: 一食堂二楼 + 餐桌未及时清理
    detail: str
    plan: str
    note: str
    unit: str | None = None  # who answers for it wherever it is (energy), unless on the second campus
    severe: bool = False


T = Template
TEMPLATES = [
    T("卫生", "canteen", "餐桌未及时清理", "午餐高峰后餐桌残留饭菜、汤汁，保洁人员未及时巡台",
      "高峰时段增设巡台保洁员，实行餐桌随脏随清", "已调整保洁排班，高峰期专人巡台，餐桌保持整洁"),
    T("卫生", "canteen", "餐具回收处异味明显", "餐具回收处泔水桶未加盖，地面有油污积水",
      "泔水桶全部加盖，回收处每餐后冲洗地面", "已更换带盖泔水桶，地面油污清理干净并增加防滑垫"),
    T("卫生", "dorm building", "公共卫生间清洁不到位", "公共卫生间地面积水、便池有污渍，保洁记录未按时填写",
      "落实每日两次清洁并签字，楼长每日抽查", "已彻底清洁，保洁记录表按时填写，楼长每日检查"),
    T("卫生", "dorm building", "楼道垃圾未及时清运", "楼道垃圾桶满溢，垃圾未按规定时间清运",
      "调整清运时间为每日早晚各一次", "垃圾已清运，清运频次调整为每日两次"),
    T("安全", "dorm building", "消防通道堆放杂物", "消防通道堆放纸箱、废旧家具，影响人员疏散",
      "当日清理杂物，纳入每周消防安全检查", "杂物已全部清理，通道畅通，已张贴禁止堆放标识", severe=True),
    T("安全", "dorm", "宿舍违规使用大功率电器未被发现", "宿舍内有学生使用电热锅，宿管查房未发现制止",
      "加强查房频次，联合学工部开展违规电器专项检查", "已收缴违规电器并登记，查房改为每周两次", severe=True),
    T("安全", "building", "应急照明灯不亮", "楼梯间应急照明灯不亮，疏散指示标志损坏",
      "全面排查应急照明和疏散指示，损坏的立即更换", "已更换应急照明灯6盏、疏散指示标志4块", severe=True),
    T("安全", "canteen", "燃气阀门检查记录缺失", "后厨燃气阀门检查记录近一周未填写",
      "明确专人每日检查燃气阀门并记录", "已补齐检查制度，指定专人每日检查签字", severe=True),
    T("安全", "plant", "设备间未上锁且警示标识缺失", "设备间门未上锁，安全警示标识脱落",
      "加装门锁并重新张贴警示标识，值班人员每班检查", "门锁已加装，警示标识已更新", severe=True),
    T("设施设备", "dorm building", "卫生间水龙头损坏漏水", "卫生间多个水龙头损坏持续漏水，报修后未及时维修",
      "安排维修工当日更换水龙头", "已更换水龙头5个，报修单闭环"),
    T("设施设备", "dorm", "公共洗衣机故障未维修", "公共洗衣机故障停用已超过一周，学生意见较大",
      "联系洗衣机运营商限期维修", "运营商已完成维修并更换2台老旧洗衣机"),
    T("设施设备", "building", "教室桌椅损坏未及时维修", "部分教室桌椅损坏、窗帘脱落，未列入维修计划",
      "全面排查教室设施，建立维修台账", "已修复桌椅23套，更换窗帘4幅"),
    T("设施设备", "dorm", "热水供应不稳定", "淋浴热水时冷时热，供水温度不达标",
      "检查热水管网和换热设备，调整供水温度", "已更换故障温控阀，供水温度稳定在45℃以上", unit="ENERGY"),
    T("服务态度", "canteen", "窗口工作人员态度生硬", "窗口工作人员打菜时态度生硬，对学生询问不予理睬",
      "对当事员工批评教育，全员开展服务礼仪培训", "已开展服务规范培训，当事员工写出书面检查"),
    T("服务态度", "dorm", "宿管值班人员服务不耐心", "宿管值班人员接待学生报修时不耐烦，未按规定登记",
      "组织宿管人员学习服务规范，报修一律登记", "已组织培训，报修登记本按规定使用"),
    T("服务态度", "hall", "报修受理不及时", "报修电话多次无人接听，报修单未按时派发",
      "报修电话设专人值守，报修单两小时内派发", "已调整值班安排，报修响应时间纳入考核"),
    T("劳动纪律", "canteen dorm building hall", "工作时间人员离岗", "工作时间值班人员离岗，岗位无人值守",
      "严格执行考勤和离岗报备制度", "已对离岗人员通报批评，执行离岗报备"),
    T("劳动纪律", "canteen dorm building", "工作人员未按规定着装", "部分工作人员未穿工作服、未佩戴工牌",
      "每日班前检查着装和工牌", "已配齐工作服和工牌，班前检查落实到位"),
    T("能耗", "building", "空教室灯光长明", "白天无人教室灯光、空调长时间开启",
      "安装智能控制开关，保洁人员巡查时随手关灯", "已加装智能控制开关，巡查随手关灯", unit="ENERGY"),
    T("能耗", "grounds", "路灯白天未关闭", "部分路灯白天仍亮，时控开关设置不当",
      "校准时控开关，按季节调整开关灯时间", "已校准时控开关，路灯按时开关", unit="ENERGY"),
    T("能耗", "dorm building", "卫生间长流水", "卫生间冲水阀损坏，长时间流水",
      "更换损坏冲水阀，开展节水巡查", "已更换冲水阀3个，杜绝长流水", unit="ENERGY"),
    T("能耗", "plant", "蒸汽管道保温层破损", "蒸汽管道保温层破损，热损失较大",
      "修补管道保温层，列入年度节能改造", "破损保温层已修补完毕"),
    T("食品安全", "canteen", "食品留样不规范", "食品留样未按规定留足48小时，留样记录缺项",
      "专人负责留样，每餐留样并登记", "已配备留样专柜，留样记录完整", severe=True),
    T("食品安全", "canteen", "冷藏柜生熟食品混放", "冷藏柜内生熟食品混放，未做分区标识",
      "冷藏设备分区标识，生熟分开存放", "已重新分区并张贴标识，当班检查", severe=True),
    T("食品安全", "canteen", "从业人员健康证过期", "个别从业人员健康证已过期仍在岗",
      "过期人员立即停岗，限期办理健康证", "相关人员已停岗并办妥健康证，建立到期提醒台账", severe=True),
    T("食品安全", "canteen", "后厨防蝇设施缺失", "后厨纱窗破损，灭蝇灯未开启",
      "更换纱窗，灭蝇灯全天开启", "已更换纱窗，灭蝇灯正常使用", severe=True),
    T("绿化", "grounds", "草坪枯黄缺水", "草坪大面积枯黄，未按养护计划浇水",
      "调整浇灌计划，补植枯死草皮", "已补植草皮约200平方米，按计划浇灌"),
    T("绿化", "grounds", "树木枯枝未修剪", "行道树枯枝未修剪，存在坠落隐患",
      "组织专业人员修剪枯枝", "已修剪枯枝，清运完毕", severe=True),
    T("绿化", "grounds", "绿化带内垃圾未清理", "绿化带内烟头、塑料袋等垃圾未清理",
      "绿化带纳入每日保洁范围", "已清理绿化带垃圾，每日巡查保洁"),
]
# Scenario: weight, recent (an open finding is usually a young one), events; "escalate" is the overdue rule
# firing, "flag" an inspector escalating by hand, "pass"/"fail" the two verdicts.
SCENARIOS = [
    (12, False, "assign rectify pass"), (30, False, "assign respond rectify pass"),
    (8, False, "assign respond rectify fail rectify pass"), (5, False, "assign escalate sanction rectify pass"),
    (3, False, "assign respond escalate sanction rectify pass"), (2, False, "flag sanction rectify pass"),
    (3, False, "assign refer resolve rectify pass"), (2, False, "assign respond refer close"),
    (3, False, "assign respond rectify pass reopen rectify pass"), (8, False, "assign respond rectify pass archive"),
    (4, False, "dismiss"), (3, True, ""), (4, True, "assign"), (5, True, "assign respond"),
    (4, True, "assign respond rectify"), (3, True, "assign escalate"), (2, True, "assign refer"),
    (3, True, "assign respond rectify fail"), (2, True, "assign respond rectify pass reopen"),
]
GAPS = {  # hours after the step before: (low, high)
    "assign": (0.5, 6), "respond": (2, 30), "rectify": (24, 120), "pass": (4, 48), "fail": (4, 48),
    "sanction": (4, 48), "flag": (1, 4), "refer": (24, 72), "resolve": (48, 240), "close": (48, 240),
    "reopen": (240, 1440), "archive": (720, 2160), "dismiss": (2, 24),
}
PASS_NOTES = ["现场复查，整改到位", "复查合格，予以销号", "经回访服务对象，问题已解决", "整改到位，照片已存档"]
FAIL_NOTES = ["复查发现问题依旧存在，整改不彻底", "仅做表面处理，问题反复出现", "现场复查仍有部分点位未整改到位"]
DISMISS_REASONS = ["经现场核查，未发现所反映的问题", "重复反映，已并入此前问题一并处理",
                   "该问题不属于后勤服务范围，已转交保卫处"]
REFER_REASONS = ["涉及管网改造，需基建处与能源服务中心共同实施，超出本单位能力",
                 "需更换整套设备，费用超出中心年度维修预算", "涉及外包合同条款调整，需部门领导协调"]
RESOLVE_DECISIONS = ["由总务部牵头，基建处配合，列入暑期维修计划", "追加专项维修经费，由中心限期实施",
                     "约谈外包服务商，按合同条款限期整改"]
DAY = timedelta(days=1)


def build_demo(store: Store, *, findings: int = 300, seed: int = 2026, now: datetime | None = None) -> dict[str, str]:
    """Create the demo campus and `findings` findings; return each user's API token.

    Every finding is reported with services.report_finding and moved only by services.advance, at times spread
    over the eighteen months before `now`, and the real overdue sweep (engine.timers.sweep) runs at each moment
    a reminder or deadline fell due, so escalations, 查而不改 counters and on-time rates are what the loop would
    have recorded. Each step is its own transaction, as in use. The same seed gives the same findings. Needs the
    workflows loaded (`xuncha init`). Not idempotent on purpose: if any demo unit or user exists already it
    raises InvalidInput("demo data exists already ...") and changes nothing.
    """
    if isinstance(findings, bool) or not isinstance(findings, int) or findings < 0:
        raise InvalidInput(f"findings must be a whole number of 0 or more, not {findings!r}")
    now, rng = now or utcnow(), random.Random(seed)
    with store.uow() as uow:
        _refuse_to_repeat(uow)
        tokens = {}
        calendars = admin.known_calendars(uow)  # a workflows file of one's own may not define them
        for code, name, name_en, parent in UNITS:
            calendar = UNIT_CALENDARS.get(code)
            admin.create_unit(uow, code, name, parent=parent, name_en=name_en,
                              calendar=calendar if calendar in calendars else None)
        for name, display, role, unit in USERS:
            _, tokens[name] = admin.create_user(uow, name, [role], unit=unit, display_name=display)
        cast = _Cast(uow)
        campus = _campus(uow, cast, seed, now)
        uow.commit()
    for _ in range(findings):
        _play(store, rng, cast, now, campus)
    if campus is not None:
        with store.uow() as uow:
            demo_places.record_checks(uow, campus, cast, loaded_config(uow), random.Random(seed + 2), now)
            demo_places.finish_term(uow, campus, now)
            demo_places.rate_public_reports(uow, campus, now)
            uow.commit()
    sweep_through(store, now)  # what the sweep did between the last step and now
    if store.instance is not None:  # from now on notices flow to instance/outbox.log (`xuncha notify`)
        notify_demo.write_config(store.instance)
    publish_demo_briefings(store, now)
    return tokens


def sweep_through(store: Store, until: datetime, *, limit: int = 100_000) -> int:
    """Run the real sweep at every moment up to `until` when some finding had a reminder or deadline due, in
    time order (the moment itself: a sweep running every minute acts then); returns how many sweeps ran."""
    runs = 0
    while runs < limit:
        with store.uow(write=False) as uow:
            due = uow.session.scalar(sa.select(sa.func.min(Finding.sweep_at)))
        if due is None or due > until:
            return runs
        report = timers.sweep(store, due)
        runs += 1
        if report.failed:  # a finding the sweep cannot move would be looked at forever
            raise InvalidInput(f"the demo's sweep failed: {report.failed[:3]}")
    return runs


def _campus(uow: UnitOfWork, cast: _Cast, seed: int, now: datetime) -> demo_places.DemoPlaces | None:
    """With a places file loaded: the registered campus and a term of rounds (places draw from their own seed,
    so the findings are the same with or without them)."""
    if loaded_config(uow) is None:
        return None
    campus = demo_places.build_places(uow, cast.admin, PLACES, random.Random(seed + 1))
    demo_places.plan_term(uow, campus, cast, now)
    campus.rng = random.Random(seed + 3)
    return campus


def publish_demo_briefings(store: Store, now: datetime, months: int = 3) -> None:
    """The monthly briefings of the last `months` full months, published (Word only, to stay fast), so a new
    user finds numbered briefings at once; plus this month's draft."""
    from engine.briefings import service
    from engine.briefings.build import Scope
    from engine.briefings.docx import render_docx

    editor = Actor("wang.jun", ("inspector",))
    today = now.astimezone(store.calendar.zone).date()
    starts = [today.replace(day=1)]
    for _ in range(months):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    with store.uow() as uow:
        for start, following in zip(starts, starts[1:], strict=False):
            row = service.draft(uow, editor, Scope(start, following - timedelta(days=1)), now=now)
            service.publish(uow, editor, row.id, service.Renderers(docx=render_docx), now=now)
        service.draft(uow, editor, Scope(starts[-1], today), now=now)
        uow.commit()


def _refuse_to_repeat(uow: UnitOfWork) -> None:
    session = uow.session
    if session.scalar(sa.select(WorkflowVersion.id).where(WorkflowVersion.name == services.DEFAULT_WORKFLOW,
                                                          WorkflowVersion.active.is_(True))) is None:
        raise InvalidInput(f"no active workflow {services.DEFAULT_WORKFLOW!r}: run `xuncha init` first")
    units = session.scalars(sa.select(Unit.code).where(Unit.code.in_([u[0] for u in UNITS]))).all()
    users = session.scalars(sa.select(User.name).where(User.name.in_([u[0] for u in USERS]))).all()
    if units or users:
        found = [f"{what} {', '.join(sorted(names))}" for what, names in (("units", units), ("users", users)) if names]
        raise InvalidInput(f"demo data exists already ({'; '.join(found)}); "
                           "run the demo on a fresh database")


class _Cast:
    """The demo's people as actors, and who answers for each unit."""

    def __init__(self, uow: UnitOfWork):
        session = uow.session
        users = {u.name: u for u in session.scalars(sa.select(User).where(User.name.in_([u[0] for u in USERS])))}
        self.actors = {name: actor_for(session, user) for name, user in users.items()}
        self.unit_ids = dict(session.execute(sa.select(Unit.code, Unit.id)).all())
        self.unit_names = dict(session.execute(sa.select(Unit.code, Unit.name)).all())
        self.inspectors = [n for n, _, role, _ in USERS if role == "inspector"]
        self.public = [n for n, _, role, _ in USERS if role == "public"]
        self.leader = next(self.actors[n] for n, _, role, _ in USERS if role == "leader")
        self.admin = next(self.actors[n] for n, _, role, _ in USERS if role == "admin")

    def centre(self, unit: str) -> Actor:
        """The centre user of the unit itself, else of the nearest unit above it."""
        unit_id = self.unit_ids[unit]
        reaching = [a for a in self.actors.values() if "centre" in a.roles and a.can_reach(unit_id)]
        return min(reaching, key=lambda a: len(a.reach))


def _play(store: Store, rng: random.Random, cast: _Cast, now: datetime,
          campus: demo_places.DemoPlaces | None = None) -> None:
    """Report one finding and take it as far along its scenario as the time before `now` allows."""
    template = rng.choice(TEMPLATES)
    place, unit = rng.choice([p for kind in template.kinds.split() for p in PLACES[kind]])
    if template.unit and unit != "FEICUI":
        unit = template.unit
    _, recent, story = rng.choices(SCENARIOS, weights=[s[0] for s in SCENARIOS])[0]
    events = story.split()
    source = "public" if events[:1] == ["dismiss"] else rng.choices(
        ["department", "self_inspection", "public"], weights=[65, 20, 15])[0]
    age = rng.uniform(0.1, 40) if recent else rng.uniform(20, 540)
    inspector = cast.actors[rng.choice(cast.inspectors)]
    reporter = {"department": inspector, "self_inspection": cast.centre(unit),
                "public": cast.actors[rng.choice(cast.public)]}[source]
    severity = rng.choices(["normal", "high", "critical"], [40, 45, 15])[0] if template.severe else \
        rng.choices(["low", "normal", "high"], [30, 60, 10])[0]
    with store.uow() as uow:
        at = _office_hours(uow, rng, now - timedelta(days=age))
        if at >= now:
            at = now - timedelta(minutes=rng.randint(5, 120))
        where, round_id = _where(campus, place, source, unit, at)
        description = _description(template, place, source, at, cast.unit_names[unit], uow)
        finding_id = demo_places.qr_report(uow, campus, where, template.category, description, at) \
            if source == "public" and campus is not None else None
        if finding_id is None:
            finding_id = services.report_finding(uow, reporter, services.Report(
                title=place + template.title, category=template.category, location=place, unit=unit,
                source=source, severity=severity, description=description,
                inspection_round=_round(uow, template, source, at), place=where, round=round_id), now=at).id
        if round_id is not None:
            demo_places.check_finding(uow, reporter, round_id, where, finding_id, at, now)
        uow.commit()
    for step in events:
        with store.uow(write=False) as uow:
            finding = uow.session.get(Finding, finding_id)
            if step == "escalate":  # the story waits past the deadline: the sweep escalates it, or not
                if finding.due_at is None:
                    break
                at = finding.due_at
            else:
                # Fixed on the spot (立行立改) when rectified straight from assigned.
                low, high = (1, 8) if step == "rectify" and finding.state == "assigned" else GAPS[step]
                at = _office_hours(uow, rng, at + timedelta(hours=rng.uniform(low, high)))
        if at >= now:
            break
        sweep_through(store, at)  # whatever fell due before this step, the sweep acted on at the time
        if step == "escalate":
            continue
        with store.uow() as uow:
            finding = uow.session.get(Finding, finding_id)
            workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
            if STEP_EVENTS.get(step, step) not in workflow.events_from(finding.state):
                break  # a rule or the sweep moved it: the story ends where the loop put it
            event, actor, payload = _step(uow, rng, cast, finding, template, step, inspector, at)
            services.advance(uow, finding.id, event, actor, payload, now=at)
            uow.commit()


def _where(campus: demo_places.DemoPlaces | None, place: str, source: str, unit: str,
           at: datetime) -> tuple[str | None, int | None]:
    """The registered place a finding was found at (the building or a place inside it), and its round."""
    if campus is None:
        return None, None
    building = campus.building[place]
    where = campus.rng.choice([building, building, *campus.below[building]])
    return where, demo_places.round_for(campus, source, unit, building, at)


STEP_EVENTS = {"pass": "verify", "fail": "verify", "flag": "escalate"}  # scenario steps named otherwise


def _step(uow: UnitOfWork, rng: random.Random, cast: _Cast, finding: Finding, template: Template, step: str,
          inspector: Actor, at: datetime) -> tuple[str, Actor, dict]:
    """The event, who fires it and what they say, for one step of a scenario."""
    unit = next(code for code, unit_id in cast.unit_ids.items() if unit_id == finding.unit_id)
    centre = cast.centre(unit)
    if step == "assign":
        note = "经核实情况属实，请按期整改" if finding.source == "public" else "请按期整改并上传整改照片"
        return "assign", inspector, {"note": note}
    if step == "respond":
        return "respond", centre, {"plan": template.plan}
    if step == "rectify":
        note = template.note if not finding.failed_verifications else f"再次整改：{template.note}"
        return "rectify", centre, {"note": note}
    if step in ("pass", "fail"):
        return "verify", inspector, {"verdict": step, "note": rng.choice(PASS_NOTES if step == "pass" else FAIL_NOTES)}
    if step == "flag":
        return "escalate", inspector, {"reason": "同类问题多次巡查发现仍未整改，提请督办"}
    if step == "sanction":
        return "sanction", cast.leader, _sanction(rng, cast.unit_names[unit])
    if step == "refer":
        return "refer", centre, {"reason": rng.choice(REFER_REASONS)}
    if step == "resolve":
        return "resolve", cast.leader, {"decision": rng.choice(RESOLVE_DECISIONS)}
    if step == "close":
        return "close", cast.leader, {"decision": "已纳入年度维修改造工程统筹实施，按计划完成后不再单独跟踪"}
    if step == "reopen":
        if rng.random() < 0.5:
            return "reopen", SYSTEM, {"reason": "同一地点同类问题再次被发现", "rule": "recurrence"}
        return "reopen", inspector, {"reason": "回访发现问题复发"}
    if step == "archive":
        return "archive", cast.admin, {}
    if step == "dismiss":
        return "dismiss", inspector, {"reason": rng.choice(DISMISS_REASONS)}
    raise AssertionError(f"unknown scenario step {step!r}")


def _sanction(rng: random.Random, unit_name: str) -> dict:
    kind = rng.choices(["criticism", "warning", "deduction", "contract_penalty"], [3, 2, 4, 1])[0]
    if kind == "criticism":
        return {"kind": kind, "decision": f"对{unit_name}通报批评，责令限期整改"}
    if kind == "warning":
        return {"kind": kind, "decision": f"对{unit_name}负责人提出书面警告"}
    if kind == "deduction":
        points = rng.choice([1, 2, 3, 5])
        return {"kind": kind, "points": points,
                "decision": f"按《后勤服务质量考核办法》扣减{unit_name}月度考核分{points}分"}
    amount = rng.choice([500, 1000, 2000])
    contract = f"HT-{rng.choice([2024, 2025])}-WY-{rng.randint(1, 40):03d}"
    return {"kind": kind, "amount": amount, "contract": contract,
            "decision": f"依据服务合同{contract}考核条款扣减服务费{amount}元"}


def _office_hours(uow: UnitOfWork, rng: random.Random, at: datetime) -> datetime:
    """`at`, or the next working morning when `at` falls outside office hours (people act at work)."""
    calendar = uow.calendar
    local = at.astimezone(calendar.zone)
    if calendar.is_working_day(local.date()) and time(8, 0) <= local.time() < time(18, 0):
        return at
    day = local.date() + (DAY if local.time() >= time(8, 0) else timedelta())
    while not calendar.is_working_day(day):
        day += DAY
    start = datetime.combine(day, time(8, 0), calendar.zone) + timedelta(minutes=rng.randint(0, 90))
    return max(start, at + timedelta(minutes=1)).astimezone(at.tzinfo)


def _description(template: Template, place: str, source: str, at: datetime, unit_name: str,
                 uow: UnitOfWork) -> str:
    local = at.astimezone(uow.calendar.zone)
    when = f"{local.month}月{local.day}日{'上午' if local.hour < 12 else '下午'}"
    if source == "public":
        return f"{when}反映：{place}{template.detail}，希望尽快解决。"
    if source == "self_inspection":
        return f"{when}中心自查发现{place}{template.detail}，已列入整改台账。"
    return f"{when}巡查发现{place}{template.detail}。请{unit_name}按期整改并回复。"


def _round(uow: UnitOfWork, template: Template, source: str, at: datetime) -> str | None:
    local = at.astimezone(uow.calendar.zone)
    if source == "public":
        return None
    if source == "self_inspection":
        return f"{local.year}年{local.month}月中心自查"
    kind = "食品安全专项巡查" if template.category == "食品安全" else "常规巡查"
    return f"{local.isocalendar().year}年第{local.isocalendar().week}周{kind}"
