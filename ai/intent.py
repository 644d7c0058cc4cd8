"""Does the visitor ask for a human? `wants_human(text)`.

Rules over Russian word forms, not a model: it must work with the AI down
and cost nothing on every message. A request is a person-noun (оператор,
менеджер, человек, специалист...) in any case form together with a request
word near it (позовите, соедините, хочу поговорить, нужен...), or "живой"
with such a noun, or the noun alone as the whole message ("Оператора!").
Phone carriers ("оператор связи", "сотовый оператор"), tour operators
("туроператор" is another word) and head counts ("на двух человек") are
not requests.
"""

from __future__ import annotations

import enum
import re

from ai.russian import cyrillic, words

_HUMAN = re.compile(
    r"^(оператор|менеджер|специалист|консультант|сотрудник|администратор)"
    r"(а|у|ом|е|ы|ов|ам|ами|ах)?$"
    r"|^(человек(а|у|ом|е)?|люд(и|ей|ям|ьми))$"
)
_ALIVE = re.compile(r"^жив(ой|ого|ому|ым|ом|ая|ую|ые|ых|ыми)$")
_REQUEST = re.compile(
    r"^(позов\w*|позвать|позвон\w*|зов(и|ите)|соедин\w*|переключ\w*|подключ\w*|"
    r"свяж\w*|связат\w*|связь|поговор\w*|пообща\w*|общат\w*|общени\w*|переда\w*|"
    r"перевед\w*|хочу|хотим|хотел\w*|нуж(ен|на|но|ны)|дай(те)?|можно|прошу|"
    r"требу\w*|верните|пригласи\w*|вызов\w*|вызва\w*|напиш\w*)$"
)
# Words right after "оператор" that make it a phone carrier or similar.
_NOT_SUPPORT_AFTER = re.compile(r"^(связи|сотов\w*|мобильн\w*|мтс|билайн\w*|мегафон\w*|теле2)$")
_NOT_SUPPORT_BEFORE = re.compile(r"^(сотов\w*|мобильн\w*|телеком\w*)$")
# A number or quantity word before "человек" makes it a head count.
_QUANTITY = re.compile(
    r"^(\d+|одн\w*|один|дв\w*|тр\w*|четыр\w*|пят\w*|шест\w*|сем\w*|восьм\w*|девят\w*|"
    r"десят\w*|сколько|нескольк\w*|много|нас|на|для|групп\w*|количеств\w*|числ\w*)$"
)
_WINDOW = 4


def _is_human_noun(tokens: list[str], index: int) -> bool:
    word = tokens[index]
    if not _HUMAN.match(word):
        return False
    after = tokens[index + 1] if index + 1 < len(tokens) else ""
    before = tokens[index - 1] if index > 0 else ""
    if word.startswith("оператор") and (
        _NOT_SUPPORT_AFTER.match(after) or _NOT_SUPPORT_BEFORE.match(before)
    ):
        return False
    return not (word.startswith(("человек", "люд")) and _QUANTITY.match(before))


def _negated(tokens: list[str], index: int) -> bool:
    return index > 0 and tokens[index - 1] in {"не", "ни", "без"}


def wants_human(text: str) -> bool:
    tokens = words(text)
    for index in range(len(tokens)):
        if not _is_human_noun(tokens, index):
            continue
        if index > 0 and _ALIVE.match(tokens[index - 1]):
            return True
        if len(tokens) <= 2:
            return True  # "Оператор!", "Оператора пожалуйста"
        window = range(max(0, index - _WINDOW), min(len(tokens), index + _WINDOW + 1))
        for near in window:
            if near != index and _REQUEST.match(tokens[near]) and not _negated(tokens, near):
                return True
    return False


class Intent(enum.Enum):
    HUMAN = "human"
    COMPLAINT = "complaint"
    REFUND_DISPUTE = "refund_dispute"
    PAYMENT_PROBLEM = "payment_problem"
    BOOKING_CHANGE = "booking_change"
    ANGER = "anger"
    OFF_TOPIC = "off_topic"
    GREETING = "greeting"
    THANKS = "thanks"


# What a person handles: the offline answer hands the chat over, the model is told to.
HANDOFF = frozenset(
    {
        Intent.HUMAN,
        Intent.COMPLAINT,
        Intent.REFUND_DISPUTE,
        Intent.PAYMENT_PROBLEM,
        Intent.BOOKING_CHANGE,
        Intent.ANGER,
    }
)


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_COMPLAINT = _any(
    r"\bжалоб\w*",
    r"\bпожалова(?:ться|лся|лась|лись)\b|\bпожалу(?:юсь|емся)\b",  # not "добро пожаловать"
    r"\bпретензи\w*",
    r"\bнедовол\w*",
    r"\bразочарова\w*",
    r"\bхам\w*",
    r"\bнахамил\w*",
    r"\bгрубил\w*|\bгрубо\w*|\bгрубый\b",
    r"\bобману\w*|\bобман\b|\bкинули\b|\bразвод\b",
    r"\bне\s+(?:приехал|пришел|пришла|встретил|забрал|дождал)\w*",
    # The guide or the bus was late ("гид опоздал на час"); not the visitor late for the
    # trip ("мы опоздали на автобус"): the cancellation rule's no-show clause answers that.
    r"(?<!\bя\s)(?<!\bмы\s)\bопоздал\w*+(?!\s+(?:на|к)\s+(?:автобус|экскурс|тур|поездк|"
    r"отправлен|сбор|встреч|теплоход|метеор))",
    r"\bне\s+понравил\w*",
    r"\bиспорти\w*",
    r"\bплох\w*\s+(?:гид|экскурс|сервис|обслуживан|организац|автобус)\w*",
    r"\bужасн\w*\s+(?:гид|экскурс|сервис|обслуживан|организац|тур|автобус)\w*",
    r"\bсорвал\w*",
    r"\b(?:тур|экскурси\w*|гид|поездк\w*|организаци\w*)\s+(?:был\w*\s+)?"
    r"(?:ужасн|отвратительн|кошмарн|плох|никак)\w*",
    r"\bкомпенсац\w*",
)
_REFUND_DISPUTE = _any(
    r"\bне\s+(?:вернули|возвращают|вернул)\b",
    r"\b(?:деньг|возврат|средств)\w*.{0,30}\bне\s+(?:пришл|пришел|поступил|получил|вернул)\w*",
    r"\bне\s+(?:пришл|пришел|поступил|получил)\w*\s+(?:\w+\s+)?(?:деньг|возврат|средств)\w*",
    r"\bгде\s+(?:мои|наши)\s+деньг\w*",
    r"\bверните\s+(?:мне\s+|нам\s+)?(?:деньг\w*|оплат\w*|мои|наши)",
    r"\bтребую\b",
    r"^(?!.*\bесли\b).*\b(?:хочу|хотим|прошу|верните)\s+(?:\w+\s+)?(?:вернуть\s+)?"
    r"(?:деньг|средств|возврат)\w*",
    r"\bотказ\w*\s+в\s+возврат\w*|\bотказываются\s+вернуть",
    r"\bдо\s+сих\s+пор\b.*\b(?:деньг|возврат|верн)\w*",
    r"\b(?:деньг|возврат)\w*.*\bдо\s+сих\s+пор\b",
    r"\bуже\s+\d+\s+(?:дн|недел)\w*.*\b(?:деньг|возврат)\w*",
)
_PAYMENT_PROBLEM = _any(
    r"\bсписал\w*(?:\s+\w+){0,2}\s+(?:дважды|два\s+раза|2\s+раза|двойн\w*|лишн\w*)",
    r"\bсписал\w*\s+(?:\w+\s+)?деньг\w*",
    r"\b(?:дважды|два\s+раза|2\s+раза)\s+списал\w*",
    r"\bдвойн\w*\s+(?:списан|оплат|платеж)\w*",
    r"\b(?:оплата|платеж|платёж|карта)\s+не\s+(?:прошла|прошел|проходит|принимается)\w*",
    r"\bне\s+(?:проходит|прошла|прошел|получается)\s+(?:оплат|платеж)\w*",
    r"\bне\s+могу\s+(?:оплатить|заплатить)",
    r"\bошибк\w*\s+(?:при|во\s+время)\s+оплат\w*|\bошибк\w*\s+оплат\w*",
    r"\bсписал\w*.*\b(?:брон\w*|подтвержд\w*|письм\w*)\s+(?:нет|не\s+пришл\w*)",
    r"\bденьги\s+списал\w*",
    r"\bоплатил\w*.*\bне\s+(?:пришл|пришел|пришло|вижу|появил)\w*",
    r"\b(?:письм|подтвержден|чек|билет)\w*\s+(?:так\s+и\s+)?не\s+(?:пришл|пришел|приходит)\w*",
    r"\bне\s+(?:пришл|пришел|приходит)\w*\s+(?:\w+\s+)?(?:письм|подтвержд|чек|билет)\w*",
)
_OWN_BOOKING = r"(?:мо[юяей]|наш[ауеи]|свою|свой|эт[ау])\s+(?:брон\w*|заказ\w*|тур\w*|поездк\w*)"
_BOOKING_CHANGE = _any(
    r"\b(?:перенесите|измените|поменяйте|аннулируйте)\b",
    # "отмените мою бронь", "вы отмените мне бронь?"; not "если вы отмените тур" (the
    # company calling the trip off: its rule answers).
    r"(?<!\bвы\s)\bотмените\b|\bвы\s+отмените\s+(?:мне\s+|нам\s+)?(?:мо|наш|сво|брон|заказ)\w*",
    r"\b(?:хочу|хотим|хотела?|нужно|надо|прошу|помогите|необходимо)\s+"
    r"(?:\w+\s+)?(?:отменить|перенести|изменить|поменять|сдать|аннулировать|добавить|убрать)",
    rf"\b(?:отменить|перенести|изменить|поменять|отмена|перенос)\w*\s+{_OWN_BOOKING}",
    r"\btt-[a-z0-9]{4,8}\b.*\b(?:отмен|перен|измен|помен)\w*",
    r"\b(?:отмен|перен|измен|помен)\w*.*\btt-[a-z0-9]{4,8}\b",
    r"\bне\s+(?:сможем|смогу|сможет|получится)\s+(?:поехать|прийти|приехать)",
)
_ANGER = _any(
    r"\bбезобрази\w*",
    r"\bиздевает\w*|\bиздевательств\w*",
    r"\bпозор\w*",
    r"\bотвратительн\w*",
    r"\bкошмар\w*",
    r"\bбесит\b|\bдостали\b|\bзадолбал\w*",
    r"\bсколько\s+можно\s+(?:ждать|терпеть|тянуть|издеваться|писать)|\bсколько\s+можно\s*[!?.]*$",
    r"\bидиот\w*|\bдебил\w*|\bтупой\b|\bтупые\b",
    r"\bбред\b|\bчушь\b",
    r"\bвы\s+там\s+что\b",
    r"\bужас\b|\bужасно\b",
    r"\bв\s+суд\b|\bроспотребнадзор\w*|\bпрокуратур\w*",
)
# Off-topic: the subject words, unless the message is also about a tour or its rules.
_OFF_TOPIC = _any(
    r"\bпогод\w*|\bпрогноз\w*|\bтемператур\w*|\bградус\w*",
    r"\bвыбор(?:ы|ах|ов|ам)\b|\bпрезидент\w*|\bполитик\w*|\bпутин\w*|\bдепутат\w*|"
    r"\bпартии\b|\bпартия\b|\bвойн\w*|\bсанкци\w*|\bгосдум\w*",
    r"\bфутбол\w*|\bхокке\w*|\bматч\w*|\bчемпионат\w*|\bрубин\b|\bак\s+барс\w*",
    r"\bкурс\w*\s+(?:доллар|евро|валют|рубл|биткоин)\w*|\bбиткоин\w*|\bкриптовалют\w*|\bакци[ийя]\s+\w+",
    r"\bрецепт\w*|\bприготов\w*|\bсвари\w*|\bиспечь\b",
    r"\bсколько\s+будет\s+\d+\s*[-+*/×x]\s*\d+|\d+\s*[-+*/×]\s*\d+\s*=\s*\??$",
    r"\bстих\w*|\bсочини\w*|\bнапиши\s+(?:песн|эссе|код|программ|рассказ|сказк)\w*",
    r"\bанекдот\w*|\bшутк[уа]\b|\bпошути\w*",
    r"\bдомашн\w*\s+задани\w*|\bуравнени\w*|\bреши\s+задач\w*|\bсочинени\w*",
    r"\bпрограммирова\w*|\bpython\b|\bпитон\w*|\bкод\s+на\b",
    r"\bкто\s+ты\s+такой\b|\bкак\s+тебя\s+зовут\b|\bты\s+бот\b",
    r"\bгороскоп\w*|\bлотере\w*|\bказино\b|\bставк\w*\s+на\b",
    r"\bновост\w*|\bсмысл\s+жизни\b|\bстолиц\w*\s+\w+",
    r"\bлекарств\w*|\bболит\b|\bдиагноз\w*",
    r"\bкупить\s+(?:машин|квартир|телефон|iphone|айфон)\w*|\bипотек\w*|\bкредит\w*",
)
# Facts about the city and its sights no tour's data holds (its age, who built it, when,
# why so named, how many live there), and translating: the chat cannot answer them,
# even when the sight is a tour's ("кто построил кремль"). Not a question about a tour.
_SIGHTS = (
    r"(?:город\w*|казан\w*|кремл\w*|мечет\w*|башн\w*|храм\w*|монастыр\w*|свияжск\w*|"
    r"болгар\w*|елабуг\w*|татарстан\w*|сююмбик\w*|кул-шариф\w*|иннополис\w*|волг\w*)"
)
_LANGUAGE = (
    r"(?:английск|татарск|русск|немецк|китайск|французск|испанск|турецк|арабск|итальянск)\w*"
)
_TRIVIA = _any(
    rf"\bсколько\s+лет\s+{_SIGHTS}",
    r"\bкто\s+(?:\w+\s+)?(?:построил|основал|строил|спроектировал|возв[её]л|создал|расписал)\w*",
    r"\b(?:когда|в\s+как(?:ом|ие)\s+год\w*)\s+(?:\w+\s+){0,3}(?:построен|постро|основан|основ|"
    r"возведен|возвед)\w*",
    r"\bпочему\s+(?:\w+\s+){0,3}(?:называ|назвал)\w*",
    r"\bнаселени\w*|\bсколько\s+(?:\w+\s+)?(?:жител|человек\s+живет|людей\s+живет)\w*",
    rf"\b(?:высот\w*|площад\w*)\s+{_SIGHTS}",
    rf"\bпереве(?:ди|дите|сти)\b.*\b(?:на|с)\s+{_LANGUAGE}",
    rf"\bперевод\w*\s+(?:\w+\s+)?(?:на|с)\s+{_LANGUAGE}",
    rf"\bкак\s+(?:\S+\s+){{0,3}}(?:по-{_LANGUAGE}|на\s+{_LANGUAGE}\s+(?:будет|сказать|пишется))",
    rf"\bкак\s+(?:будет|сказать|пишется)\s+(?:\S+\s+){{0,3}}(?:по-{_LANGUAGE}|на\s+{_LANGUAGE})",
)
_OUR_SUBJECT = re.compile(
    r"\bтур\w*|\bэкскурс\w*|\bпоездк\w*|\bпоезд\w*|\bброн\w*|\bотмен\w*|\bперен\w*|"
    r"\bвозврат\w*|\bоплат\w*|\bбилет\w*|\bгид\w*|\bтеплоход\w*|\bметеор\w*|\bвзять\b|"
    r"\bодежд\w*|\bодеть\w*|\bнадеть\w*"
)
# Outside what the chat knows, though its words are a traveller's: getting to the region
# ("сколько ехать от Москвы до Казани", "билеты на самолёт в Казань"; every tour starts
# there) and where to stay in the city ("какой отель в Казани лучше"). Not when the
# message is about a tour ("как добраться до Свияжска" names no region, "гостиница в
# туре в Елабугу" a tour's). A restaurant is "no such tour", with what the city offers.
# Not "к вам", "до вас": getting to us is getting to the meeting point (ai.retrieval).
_REGION = r"(?:(?:до|в|во)\s+(?:казан|татарстан)\w*)"
_GET_THERE = (
    r"(?:добрать\w*|добира\w*|доехать|доедем|доеду|долететь|долетим|доплыть|"
    r"сколько\s+(?:\w+\s+)?(?:ехать|лететь|едет|летит)|на\s+ч[её]м\s+(?:ехать|лететь|лучше))"
)
_TRANSPORT = (
    r"(?:самол[её]т\w*|авиа\w*|перел[её]т\w*|аэропорт\w*|вокзал\w*|ж/?д|сапсан\w*|"
    r"поезд(?:а|е|ом|у|ов|ами)?|автобус\w*\s+(?:из|от)\s+\w+)"
)
_STAY = (
    r"(?:отел[ьяеи]\w*|гостиниц\w*|хостел\w*|апартамент\w*|"
    r"остановиться|переночевать|поселиться)"
)
_IN_TOWN = r"(?:(?:в|по)\s+(?:казан\w*|городе|центре))"
# "как к вам доехать из Самары": to us from another city is to the region; to us alone,
# the meeting point.
# (From the airport, a station or a hotel in town is a way to the meeting point.)
_AFAR = r"\b(?:из|от)\s+(?!аэропорт|вокзал|метро|станци|гостиниц|отел|центр|кремл)\w+"
_TO_US_FROM_AFAR = (
    rf"(?:(?:к\s+вам|до\s+вас)\b.{{0,30}}{_AFAR}|{_AFAR}.{{0,30}}\b(?:к\s+вам|до\s+вас)\b)"
)
_OUTSIDE_WHAT_WE_KNOW = _any(
    rf"^(?=.*\b(?:{_GET_THERE}|ехать|лететь|попасть)).*{_TO_US_FROM_AFAR}",
    rf"\b{_GET_THERE}\b.{{0,40}}{_REGION}",
    rf"{_REGION}.{{0,40}}\b{_GET_THERE}",
    rf"\b{_TRANSPORT}\b.{{0,40}}{_REGION}",
    rf"{_REGION}.{{0,40}}\b{_TRANSPORT}\b",
    rf"\b(?:посовет\w*|порекоменд\w*)\b.{{0,30}}\b{_STAY}",
    rf"\b(?:где|как\w*|лучш\w*)\b.{{0,30}}\b{_STAY}.{{0,30}}{_IN_TOWN}",
    rf"\b(?:где|как\w*)\b.{{0,20}}{_IN_TOWN}.{{0,30}}\b{_STAY}",
)
_A_TOUR = re.compile(r"\bтур\w*|\bэкскурс\w*|\bпоездк\w*|\bпутешестви\w*|\bброн\w*")
_GREETING = re.compile(
    r"^(?:(?:привет\w*|здравствуй\w*|здрасьте|добр\w+\s+(?:день|утро|вечер|ночи)|"
    r"доброго\s+времени\s+суток|хай|салам\w*|алло|ау)[\s!.,)]*)+$"
)
_THANKS = re.compile(
    r"^(?:(?:спасибо|благодарю|спс|ок|окей|понятно|ясно|хорошо|отлично|супер|"
    r"большое|огромное|вам|вы\s+лучшие|до\s+свидания)[\s!.,)]*)+$"
)
_SHOUTING = re.compile(r"[А-ЯЁA-Z]{4,}")


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _shouting(text: str) -> bool:
    """Capitals and exclamation marks: "ВЫ ГДЕ ВООБЩЕ?!!" (not one capitalised word)."""
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return (
        len(letters) >= 12
        and capitals / len(letters) > 0.6
        and len(_SHOUTING.findall(text)) >= 2
        and ("!" in text or "?" in text)
    )


def asks_what_no_tour_says(text: str) -> bool:
    """A fact of the city or a sight the catalogue does not hold, or a translation
    (`_TRIVIA`), in a message that is not about a tour or its rules."""
    normal = _normal(cyrillic(text))
    return bool(_TRIVIA.search(normal)) and not _OUR_SUBJECT.search(normal)


def classify(text: str) -> Intent | None:
    """The intent of one visitor message, or None for an ordinary question."""
    text = cyrillic(text)  # "pozovite operatora", "spisali dvazhdy"
    normal = _normal(text)
    if not normal:
        return None
    if wants_human(text):
        return Intent.HUMAN
    if _PAYMENT_PROBLEM.search(normal):
        return Intent.PAYMENT_PROBLEM
    if _REFUND_DISPUTE.search(normal):
        return Intent.REFUND_DISPUTE
    if _BOOKING_CHANGE.search(normal):
        return Intent.BOOKING_CHANGE
    if _COMPLAINT.search(normal):
        return Intent.COMPLAINT
    if _ANGER.search(normal) or _shouting(text) or normal.count("!") >= 3:
        return Intent.ANGER
    if _OFF_TOPIC.search(normal) and not _OUR_SUBJECT.search(normal):
        return Intent.OFF_TOPIC
    if asks_what_no_tour_says(text):
        return Intent.OFF_TOPIC
    if _OUTSIDE_WHAT_WE_KNOW.search(normal) and not _A_TOUR.search(normal):
        return Intent.OFF_TOPIC
    if _GREETING.match(normal):
        return Intent.GREETING
    if _THANKS.match(normal):
        return Intent.THANKS
    return None


def needs_person(text: str) -> Intent | None:
    """The handoff intent of a message (a request, a complaint, a dispute...), if any."""
    intent = classify(text)
    return intent if intent in HANDOFF else None
