"""Which scripts and languages a text is written in, by counting characters (pure).

Good enough to label a document ``zh-Hans``, ``zh-Hant``, ``ja``, ``ko`` or ``en`` for search
and review; not a language identifier. Latin letters are reported as ``en`` because English is
the only Latin-script language our complaints arrive in.

Also judges whether OCR output reads as language at all (:func:`language_likeness`), and drops
the stray Han the Chinese model reads in the specks of an English page (:func:`drop_stray_han`).
"""

from __future__ import annotations

import contextlib
import functools
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


# --- Does OCR output read as language? (issue #13: OCR that knows when it failed) ---------------
#
# Tesseract's confidence says how sure it is of each glyph, not whether the page says anything: a
# photograph of a wall reads as "potatopeeoeerengeogoeoona" at confidence 71. These rules judge
# the text itself. Measured on the typed corpus scans (English and German letters, faxes, forms:
# 0.97-0.99) and the benchmarks/ocr_quality.py pages (Simplified, Traditional, English; clean and
# faxed: 0.99-1.0) against OCR of photographs and textures (Latin 0.0-0.48, Han 0.53-0.82).

# The most frequent English words (function words and complaint-letter vocabulary): a token in
# this list is a word whatever its letters look like.
_COMMON_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its just me more most my no nor
not now of off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself ok mr mrs ms dr st
dear sir madam sincerely faithfully regards date re ref tel fax email page office
complaint letter address name phone number please thank thanks street road city flat apt
""".split())
# Function words of the languages our scans arrive in besides Chinese (English, and the German,
# French, Dutch, Spanish of foreign correspondence): prose, forms and letters all use them.
_FUNCTION_WORDS = _COMMON_WORDS | frozenset("""
der die das den dem des und ist nicht mit für fur auf ein eine einer einem einen sie wir ich es
zu im von bei aus wie oder auch nur noch sehr wird werden sind war hat haben bitte ihr ihre
le la les de des du et est un une pour dans que qui par sur pas au aux avec ce se vous nous
het een van en op te voor zijn niet met aan dat
el los las del y en por con para una es se lo al su
""".split())
_VOWELS = frozenset("aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýÿœ")
_TOKEN = re.compile(r"[^\W\d_]+")
_MIN_JUDGED_LETTERS = 8       # less Latin text than this is too little to judge
_MIN_JUDGED_HAN = 6           # likewise, Han characters
_MIN_LIKENESS = 0.5           # share of a page's letters in plausible words (Latin)
# Share of a page's Han that is common and stands in words, less its share of stray symbols.
# Chinese letters and faxes score 0.99 and more; Han read from photographs 0.53-0.82 (and up to 1
# when only a few characters are read: too little to tell).
_MIN_HAN_LIKENESS = 0.75
# A page of many short tokens with hardly a function word and hardly a line of two words is a
# list of fragments OCR found in a picture ("ve", "eno", "Pat", "fall" one per line), not
# writing; a menu or form read one label a line ("Sections", "Modules") has longer words.
_MIN_PROSE_TOKENS = 12
_MIN_FUNCTION_SHARE = 0.25
_MIN_PHRASE_LINES = 0.3
_MAX_FRAGMENT = 3             # letters: median token length of such fragments


@functools.cache
def _common_han() -> frozenset[str]:
    """Frequently used Han: GB2312 level 1 (3,755 Simplified) and Big5 level 1 (5,401 Traditional).

    Read from the codecs' own tables: the level-1 rows hold the common characters of each standard.
    """
    chars: set[str] = set()
    for first in range(0xB0, 0xD8):             # GB2312 level 1: rows 16-55
        for second in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((first, second)).decode("gb2312"))
    for first in range(0xA4, 0xC7):             # Big5 level 1: A440-C67E
        for second in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((first, second)).decode("big5"))
    return frozenset(char for char in chars if is_han(char))


def _plausible_word(token: str) -> bool:
    """Whether a Latin token could be a word (of English or another European language).

    Rejects what OCR makes of texture: three of one letter in a row, four vowels or seven
    consonants in a row, runs of only vowels or only consonants of any length (short all-capital
    tokens are abbreviations and pass), and long tokens that are mostly vowels.
    """
    word = token.lower()
    if word in _COMMON_WORDS:
        return True
    if token.isupper() and len(token) <= 5:
        return True
    if re.search(r"(.)\1\1", word):
        return False
    vowels = sum(char in _VOWELS for char in word)
    if vowels == 0 or (vowels == len(word) and len(word) > 2):
        return False
    if len(word) >= 6 and not 0.15 <= vowels / len(word) <= 0.65:
        return False
    run_vowels = run_consonants = 0
    for char in word:
        if char in _VOWELS:
            run_vowels, run_consonants = run_vowels + 1, 0
        else:
            run_vowels, run_consonants = 0, run_consonants + 1
        if run_vowels >= 4 or run_consonants >= 7:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Likeness:
    """How much of a text reads as language.

    ``script`` is ``"han"`` or ``"latin"`` (the one judged) or ``""`` when there is too little
    text to judge; ``score`` is the share (0-1) of its letters in plausible words (Latin) or of
    its Han characters that are common ones, less the share of stray symbols.
    """

    script: str
    score: float

    @property
    def readable(self) -> bool:
        """Whether the text reads as language (too little text to judge counts as readable)."""
        if not self.script:
            return True
        return self.score >= (_MIN_HAN_LIKENESS if self.script == "han" else _MIN_LIKENESS)


def language_likeness(text: str) -> Likeness:
    """Judge whether ``text`` (typically one OCR'd page) reads as Chinese or Latin-script language.

    Pure and cheap; used to flag OCR'd scans for review (ARC-5-02). Chinese is judged by its
    Han characters that are common ones (GB2312 / Big5 level 1) standing in runs (words, or next
    to digits as in dates), less the share of stray symbols; runs that split into names (a common
    surname and one or two characters) count as words when a page holds a few, so a signature page
    or a list of petitioners is not flagged. Latin text by the share of its letters in plausible
    words; a page of many short tokens with almost no function word and almost no line of two
    words scores 0 whatever its tokens.
    """
    counts = count_scripts(text)
    if counts.han >= _MIN_JUDGED_HAN and counts.han >= counts.latin / 4:
        return Likeness("han", _han_likeness(text))
    lines = [[token for token in _TOKEN.findall(line) if len(token) >= 2] for line in text.splitlines()]
    tokens = [token for line in lines for token in line]
    letters = sum(len(token) for token in tokens)
    if letters < _MIN_JUDGED_LETTERS:
        return Likeness("", 1.0)
    if len(tokens) >= _MIN_PROSE_TOKENS:
        function = sum(token.lower() in _FUNCTION_WORDS for token in tokens) / len(tokens)
        worded = [line for line in lines if line]
        phrases = sum(len(line) >= 2 for line in worded) / len(worded)
        median = sorted(len(token) for token in tokens)[len(tokens) // 2]
        if function < _MIN_FUNCTION_SHARE and phrases < _MIN_PHRASE_LINES and median <= _MAX_FRAGMENT:
            return Likeness("latin", 0.0)
    good = sum(len(token) for token in tokens if _plausible_word(token))
    return Likeness("latin", good / letters)


def looks_like_language(text: str) -> bool:
    """Whether ``text`` reads as language; see :func:`language_likeness`."""
    return language_likeness(text).readable


# The most frequent Han characters of running Chinese (after Jun Da's frequency list), with the
# Traditional forms of those that differ: a third or more of the Han in letters, forms and lists
# (0.38-0.49 in the benchmark letters). Texture is read as simple shapes (一, 人, 二) that are
# frequent too, so only a share far below prose counts as evidence.
_FREQUENT_HAN = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过"
    "发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本"
    "前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很"
    "最重并物手应战向头文体政美相见被利什二等产或新己制身果加请市区县号月及对于报告关于处理投诉信访"
) | frozenset(_PAIRS[1::2][i] for i, simplified in enumerate(_PAIRS[0::2]) if simplified in
              "们这说国会时来对发经过还没问题让为个实现动学长门间见车东关头体开无业样从产进种员区应该认"
              "识书电话号处报务单总处问诉讯处")
_MIN_FREQUENT_HAN = 0.06      # share of frequent characters under which Han is not prose
_MIN_FREQUENT_JUDGED = 20     # Han characters needed before that share is trusted


# Names are language too: a joint letter's signature page (联名信) or a list of petitioners is mostly
# given names, whose characters are rarely frequent ones (王喆, 何璐, 林晖). Chinese surnames are a
# small closed set, so a run of Han that splits entirely into surname + one or two characters is
# read as names. The commonest surnames (they cover most people), Simplified then Traditional forms.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿焦俞左柳甘祝包宁"
    "尚符舒阮柯纪梅童凌毕单季裴霍涂苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍喻祁蒲房滕屈饶解牟艾尤穆卓"
    "張劉陳楊黃趙吳孫馬羅鄭謝許韓馮鄧蕭葉蘇呂盧鍾譚陸賈韋鄒閻龍賀顧龔錢嚴湯齊喬龐顏莊聶魯紀畢駱藍"
    "饒鮑蔣"
)
_COMPOUND_SURNAMES = frozenset(
    "欧阳 歐陽 司马 司馬 上官 诸葛 諸葛 东方 東方 皇甫 尉迟 尉遲 公孙 公孫 慕容 令狐 司徒 夏侯 端木 长孙 長孫".split()
)
# Strokes and bare shapes: what OCR reads from specks, rules and empty boxes, never a given name.
_STROKES = frozenset("丨丶丿乛亅乚亠冫冖凵匚彡口囗")
_MIN_NAMES = 3                # names a page must hold before they count (one can be chance)


def _names_in(run: str) -> int:
    """How many names ``run`` (a run of Han) splits into entirely, or 0 if it does not.

    A name is a surname and one or two characters, or a compound surname and one or two.
    """
    # names[i]: how many names run[i:] splits into (None: it does not), filled from the end.
    names: list[int | None] = [None] * len(run) + [0]
    for start in range(len(run) - 1, -1, -1):
        for surname in (1, 2):
            if surname == 1 and run[start] not in _SURNAMES:
                continue
            if surname == 2 and run[start:start + 2] not in _COMPOUND_SURNAMES:
                continue
            for end in (start + surname + 1, start + surname + 2):
                rest = names[end] if end <= len(run) else None
                if rest is not None and not any(char in _STROKES for char in run[start + surname:end]):
                    names[start] = rest + 1
                    break
            if names[start] is not None:
                break
    return names[0] or 0


def _name_positions(chars: list[str]) -> set[int]:
    """Positions in ``chars`` of Han in runs that are names, if the page holds a few names."""
    positions: set[int] = set()
    names = index = 0
    while index < len(chars):
        end = index
        while end < len(chars) and is_han(chars[end]):
            end += 1
        if end == index:
            index += 1
            continue
        found = _names_in("".join(chars[index:end]))
        if found:
            names += found
            positions.update(range(index, end))
        index = end
    return positions if names >= _MIN_NAMES else set()


def _han_likeness(text: str) -> float:
    common = _common_han()
    chars = [char for char in text if not char.isspace() or char == "\n"]
    names = _name_positions(chars)
    han = good = symbols = frequent = visible = 0
    for index, char in enumerate(chars):
        if char == "\n":
            continue
        visible += 1
        if index in names:
            han, good, frequent = han + 1, good + 1, frequent + 1
        elif is_han(char):
            han += 1
            frequent += char in _FREQUENT_HAN
            # In writing, Han stands in words, or by digits ("2024年3月18日"); what texture is read
            # as stands alone between symbols and line breaks.
            joined = any(
                0 <= near < len(chars) and (is_han(chars[near]) or chars[near].isdigit())
                for near in (index - 1, index + 1)
            )
            good += joined and char in common
        elif not (char.isalnum() or char in _PUNCTUATION) and (index == 0 or chars[index - 1] != char):
            symbols += 1   # "|", "~", "^": what texture is read as; a fill-in line "____" is one
    if not han:
        return 0.0
    if han >= _MIN_FREQUENT_JUDGED and frequent < _MIN_FREQUENT_HAN * han:
        return 0.0
    return max(0.0, good / han - symbols / visible)


# Punctuation, and the boxes and marks of forms (□是 ■否, √): not stray symbols.
_PUNCTUATION = frozenset("，。、：；！？“”‘’（）《》〈〉【】「」『』—…·,.:;!?\"'()[]-/%@&+#*=<>_□■☐☑☒√×○●※")


_STRAY_HAN_SHARE = 0.05       # Han per Latin letter a page judged English may hold as specks
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN_CLASS}][ \u3000]*[{_HAN_CLASS}]")
# What the Chinese models read from specks, rules and empty boxes in an English page: strokes and
# the simplest shapes. Any other isolated character is kept: it is more likely quoted ("Complainant
# name: 王 Wang", "the character 信 means") than read from a speck.
_SPECK_HAN = _STROKES | frozenset("一二三十上丄下卜厂人入八了工土")
_STRAY_HAN = re.compile(f"( ?)[{''.join(sorted(_SPECK_HAN))}]( ?)")


def drop_stray_han(text: str) -> str:
    """``text`` without the stray Han of a page judged English (empty boxes read as "上").

    A page is English when Latin letters dominate and its few Han characters are isolated: none
    has a Han neighbour (spaces between them count as neighbours). Pages with any run of Han are
    left as they are: that is real Chinese, however short. Only the strokes and simple shapes OCR
    reads from specks go (:data:`_SPECK_HAN`), with the space they leave: "complain 上 about"
    becomes "complain about"; a quoted character ("name: 王 Wang") stays.
    """
    counts = count_scripts(text)
    if not counts.han or counts.latin < _MIN_LATIN or counts.han > _STRAY_HAN_SHARE * counts.latin:
        return text
    if _HAN_RUN.search(text):
        return text
    return _STRAY_HAN.sub(lambda found: " " if found.group(1) and found.group(2) else "", text)
