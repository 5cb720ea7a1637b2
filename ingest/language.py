"""Which scripts and languages a text is written in, by counting characters (pure).

Good enough to label a document ``zh-Hans``, ``zh-Hant``, ``ja``, ``ko`` or ``en`` for search
and review; not a language identifier. Latin letters are reported as ``en`` because English is
the only Latin-script language our complaints arrive in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Common characters whose Simplified and Traditional forms differ, as "简繁" pairs. Characters
# that Traditional text also uses on their own (后, 干, 里, 台, 只, 范, 着 ...) are left out, so
# a hit on either side is evidence for that script.
_PAIRS = (
    "们們这這说說国國会會时時来來对對发發经經过過还還没沒问問题題让讓为為个個实實现現动動学學"
    "长長门門间間见見车車东東关關头頭体體开開无無业業样樣从從产產进進种種员員区區应應该該认認"
    "识識书書买買卖賣电電话話号號马馬鸟鳥鱼魚龙龍风風飞飛专專务務华華单單卫衛历歷压壓县縣参參"
    "双雙变變听聽图圖团團园園围圍圆圓场場坏壞块塊声聲处處备備够夠夺奪奋奮妇婦孙孫宁寧宝寶审審"
    "导導层層岁歲岛島带帶师師帮幫广廣库庫废廢张張归歸录錄态態总總恳懇战戰户戶扩擴扫掃报報护護"
    "担擔择擇据據损損换換旧舊显顯汇匯汉漢沟溝泽澤洁潔济濟浅淺涨漲测測满滿灭滅灯燈灵靈点點热熱"
    "爱愛状狀独獨环環亩畝画畫疗療盐鹽监監盖蓋盘盤矿礦码碼确確础礎礼禮离離积積称稱稳穩穷窮笔筆"
    "筑築简簡类類级級纪紀约約红紅线線练練组組细細终終结結给給绝絕统統继繼续續维維综綜绿綠编編"
    "网網罗羅职職联聯肃肅胜勝脑腦脚腳脸臉节節苏蘇荣榮药藥获獲营營蓝藍虑慮虽雖补補装裝观觀规規"
    "视視觉覺亲親计計订訂讨討训訓议議记記讲講许許论論设設访訪证證评評诉訴词詞译譯试試诚誠询詢"
    "详詳语語误誤请請读讀谁誰调調谈談谢謝负負财財责責败敗货貨质質购購贵貴费費资資赔賠赛賽赶趕"
    "跃躍转轉轮輪软軟轻輕载載较較辆輛输輸边邊达達运運远遠违違连連迟遲适適选選递遞遗遺邮郵邻鄰"
    "郑鄭释釋鉴鑒钟鐘钢鋼钱錢铁鐵银銀链鏈锁鎖错錯键鍵闭閉闻聞阅閱队隊阳陽阴陰阶階际際陆陸陈陳"
    "险險随隨隐隱难難韩韓页頁项項顺順须須顾顧预預领領频頻额額饭飯馆館驾駕验驗鸡雞麦麥黄黃齐齊"
    "龟龜与與争爭两兩严嚴丽麗举舉义義乐樂习習乡鄉亚亞价價众眾优優传傳伤傷伦倫伪偽侦偵侧側债債"
    "倾傾儿兒党黨兰蘭写寫军軍农農冲衝决決况況冻凍净淨准準减減凤鳳击擊刘劉则則刚剛创創删刪别別"
    "剧劇劝勸办辦劳勞势勢医醫协協卢盧厅廳叹嘆吗嗎启啟响響执執扬揚抢搶拟擬挂掛挤擠挥揮敌敵数數"
    "断斷晋晉暂暫术術机機杀殺杂雜权權条條极極构構标標树樹桥橋检檢欢歡欧歐毁毀气氣汤湯沪滬涂塗"
    "润潤渐漸温溫滚滾灾災烟煙烧燒爷爺牵牽犹猶献獻疯瘋皱皺竞競笼籠粮糧紧緊纠糾纳納纸紙绍紹织織"
    "罚罰聪聰肠腸肤膚胁脅脉脈舰艦艺藝虚虛袭襲览覽誉譽讯訊诊診诗詩谋謀谓謂谣謠贝貝贡貢贤賢账賬"
    "贫貧贯貫贸貿赏賞赖賴赞贊赠贈趋趨践踐踪蹤轨軌辉輝辞辭迁遷迈邁邓鄧针針钓釣钻鑽铅鉛锅鍋闪閃"
    "闯闖闲閒闷悶闹鬧阔闊阵陣雾霧静靜顶頂顿頓颜顏饮飲饰飾饱飽骂罵骗騙骑騎鲜鮮鸣鳴齿齒"
)
_HANS_ONLY = frozenset(_PAIRS[0::2])
_HANT_ONLY = frozenset(_PAIRS[1::2])

# Below these, a script is noise (a stray symbol, a name in a signature), not a language.
_MIN_HAN = 5
_MIN_KANA = 3
_MIN_HANGUL = 5
_MIN_LATIN = 20
_MIN_LATIN_SHARE = 0.10   # Latin letters in Chinese text (e-mail addresses, model numbers) are common
_MIN_VARIANT = 3          # script-specific Han characters needed to tell zh-Hans from zh-Hant


# Spaces between two CJK characters or full-width punctuation carry no meaning in Chinese, but
# OCR engines and PDF text layers (glyphs placed one by one) insert them.
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


@dataclass(frozen=True, slots=True)
class ScriptCounts:
    """How many characters of each script a text holds."""

    han: int = 0
    hans: int = 0            # Han characters found only in Simplified text
    hant: int = 0            # Han characters found only in Traditional text
    kana: int = 0
    hangul: int = 0
    latin: int = 0
    replacement: int = 0     # U+FFFD: what a decoder writes for bytes it could not map
    private_use: int = 0     # what CJK fonts without a ToUnicode map often extract as
    control: int = 0         # C0 controls other than whitespace: raw glyph ids read as text

    @property
    def letters(self) -> int:
        """Characters of a writing system (Han, kana, Hangul, Latin)."""
        return self.han + self.kana + self.hangul + self.latin

    @property
    def garbage(self) -> int:
        """Characters that mean the text was not decoded."""
        return self.replacement + self.private_use + self.control


def count_scripts(text: str) -> ScriptCounts:
    """Count the characters of each script in ``text``."""
    han = hans = hant = kana = hangul = latin = replacement = private_use = control = 0
    for char in text:
        code = ord(char)
        if code < 0x80:
            if char.isalpha():
                latin += 1
            elif code < 0x20 and char not in "\t\n\r\f\v":
                control += 1
        elif _is_han(code):
            han += 1
            if char in _HANS_ONLY:
                hans += 1
            elif char in _HANT_ONLY:
                hant += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
            kana += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            hangul += 1
        elif 0xC0 <= code <= 0x24F or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            latin += char.isalpha()
        elif code == 0xFFFD:
            replacement += 1
        elif 0xE000 <= code <= 0xF8FF or code >= 0xF0000:
            private_use += 1
    return ScriptCounts(han, hans, hant, kana, hangul, latin, replacement, private_use, control)


def join_cjk(text: str) -> str:
    """``text`` with the spaces between CJK characters removed ("全 世 界" -> "全世界")."""
    return _CJK_GAP.sub("", text)


def detect_languages(text: str) -> tuple[str, ...]:
    """Languages of ``text`` by script, most characters first.

    Returns:
        Tags among ``"zh-Hans"``, ``"zh-Hant"``, ``"zh"`` (Han, script undecided), ``"ja"``
        (kana present: Japanese also uses Han), ``"ko"`` and ``"en"`` (Latin letters).
    """
    return languages_from_counts(count_scripts(text))


def languages_from_counts(counts: ScriptCounts) -> tuple[str, ...]:
    """Languages for already counted scripts; see :func:`detect_languages`."""
    found: list[tuple[int, str]] = []
    if counts.kana >= _MIN_KANA and counts.kana * 20 >= counts.han:
        found.append((counts.han + counts.kana, "ja"))
    elif counts.han >= _MIN_HAN:
        found.append((counts.han, chinese_tag(counts)))
    if counts.hangul >= _MIN_HANGUL:
        found.append((counts.hangul, "ko"))
    if counts.latin >= _MIN_LATIN and counts.latin >= _MIN_LATIN_SHARE * counts.letters:
        found.append((counts.latin, "en"))
    found.sort(key=lambda item: -item[0])
    return tuple(tag for _, tag in found)


def chinese_tag(counts: ScriptCounts) -> str:
    """``zh-Hans`` or ``zh-Hant`` when one script clearly dominates, else ``zh``."""
    if counts.hans >= _MIN_VARIANT and counts.hans >= 3 * counts.hant:
        return "zh-Hans"
    if counts.hant >= _MIN_VARIANT and counts.hant >= 3 * counts.hans:
        return "zh-Hant"
    return "zh"


def is_han(char: str) -> bool:
    """Whether ``char`` is a Han (CJK ideograph) character."""
    return _is_han(ord(char))


def _is_han(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )
