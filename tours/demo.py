"""Demo catalogue: realistic published Tatarstan tours and a few bookings.

Dates are relative to today and spread over the next twelve months, so the
demo never goes stale. Loading is idempotent: tours are keyed by slug,
bookings by reference and search aliases by name, so running it twice
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tours.models import Booking, SearchAlias, Tour


@dataclass(frozen=True)
class DemoTour:
    slug: str
    title: str
    place: str
    short: str
    description: str
    price: int
    days_from_now: int
    duration_hours: int
    max_participants: int
    places_booked: int
    nights: int = 0


DEMO_TOURS: list[DemoTour] = [
    DemoTour(
        "kazan-kremlin-kul-sharif",
        "Казанский Кремль и мечеть Кул-Шариф",
        "Казань",
        "Обзорная экскурсия по объекту ЮНЕСКО с гидом",
        "Белокаменный Кремль XVI века, падающая башня Сююмбике, Благовещенский собор "
        "и мечеть Кул-Шариф. Вход в мечеть и музей исламской культуры включён.",
        2500,
        12,
        4,
        25,
        9,
    ),
    DemoTour(
        "kazan-evening-lights",
        "Вечерняя Казань: огни набережной",
        "Казань",
        "Пешеходная прогулка по вечернему центру",
        "Улица Баумана, Театр Камала, Кремлёвская набережная и «Чаша» в подсветке. "
        "Дегустация чак-чака и эчпочмака в финале.",
        1800,
        5,
        3,
        20,
        18,
    ),
    DemoTour(
        "sviyazhsk-island-town",
        "Остров-град Свияжск",
        "Свияжск",
        "Остров-крепость Ивана Грозного на слиянии Волги и Свияги",
        "Успенский монастырь с фресками XVI века (объект ЮНЕСКО), Троицкая церковь, "
        "ремесленное подворье. Трансфер из Казани на автобусе.",
        3200,
        20,
        7,
        30,
        12,
    ),
    DemoTour(
        "bolgar-ancient-city",
        "Древний Болгар",
        "Болгар",
        "Столица Волжской Булгарии и место принятия ислама",
        "Соборная мечеть, Белая мечеть, Музей хлеба и Памятный знак в честь принятия "
        "ислама. Поездка на теплоходе «Метеор» из Казани и обратно.",
        5400,
        34,
        12,
        28,
        26,
    ),
    DemoTour(
        "raifa-monastery",
        "Раифский Богородицкий монастырь",
        "Раифа",
        "Монастырь в заповедном лесу и озеро Раифское",
        "Грузинская икона Божией Матери, Троицкий собор, прогулка по Волжско-Камскому "
        "заповеднику. Трансфер из Казани.",
        2900,
        27,
        6,
        25,
        3,
    ),
    DemoTour(
        "elabuga-merchant-town",
        "Елабуга: купеческий город",
        "Елабуга",
        "Музей-заповедник, Шишкин и Чёртово городище",
        "Дом-музей И. И. Шишкина, Уездное училище, Чёртово городище над Камой и "
        "купеческие особняки. Двухдневный тур с ночёвкой в гостинице.",
        11900,
        48,
        36,
        18,
        10,
        nights=1,
    ),
    DemoTour(
        "chistopol-pasternak",
        "Чистополь: город писателей",
        "Чистополь",
        "Дом-музей Пастернака и часовой завод «Восток»",
        "Литературный Чистополь эвакуации: Пастернак, Леонов, Чистопольские встречи. "
        "Экскурсия на завод «Восток» и прогулка по набережной Камы.",
        4700,
        60,
        10,
        20,
        4,
    ),
    DemoTour(
        "innopolis-city-of-future",
        "Иннополис: город будущего",
        "Иннополис",
        "IT-город, университет и роботы",
        "Университет Иннополис, технопарк имени Попова, беспилотные такси. "
        "Подходит для семей с детьми от 8 лет.",
        2200,
        15,
        5,
        30,
        29,
    ),
    DemoTour(
        "blue-lakes-kazan",
        "Голубые озёра",
        "Казань",
        "Карстовые озёра с бирюзовой водой",
        "Прогулка по экотропе вокруг Голубых озёр, вода круглый год +4…+6 °C. "
        "Желающие могут окунуться. Удобная обувь обязательна.",
        1500,
        70,
        4,
        25,
        2,
    ),
    DemoTour(
        "volga-cruise-kazan-sviyazhsk-bolgar",
        "Круиз по Волге: Казань — Свияжск — Болгар",
        "Волга",
        "Три дня на теплоходе с экскурсиями",
        "Каюта с окном, трёхразовое питание, экскурсии в Свияжске и Болгаре, вечерняя "
        "программа на борту.",
        28500,
        160,
        72,
        40,
        36,
        nights=2,
    ),
    DemoTour(
        "tatar-village-ethno",
        "Татарская деревня: этнотур",
        "Казань",
        "Мастер-классы, национальная кухня и фольклор",
        "Туган Авылым: татарский дом, мастер-класс по чак-чаку, национальные игры и "
        "обед из эчпочмаков и өчпочмак с бульоном.",
        2700,
        40,
        5,
        30,
        8,
    ),
    DemoTour(
        "kazan-gastro-tour",
        "Гастрономическая Казань",
        "Казань",
        "Дегустации татарской кухни в пяти местах",
        "Кыстыбый, губадия, тутырган тавык, чай с травами и чак-чак. Гастротур с "
        "историями о татарском застолье.",
        3900,
        9,
        4,
        12,
        11,
    ),
    DemoTour(
        "kazan-old-tatar-sloboda",
        "Старо-Татарская слобода",
        "Казань",
        "Мечети, купеческие дома и озеро Кабан",
        "Мечеть Марджани, дом Шамиля, галерея татарского искусства, прогулка вдоль "
        "озера Нижний Кабан.",
        1600,
        23,
        3,
        25,
        6,
    ),
    DemoTour(
        "temple-of-all-religions",
        "Храм всех религий и Старое Аракчино",
        "Казань",
        "Вселенский храм Ильдара Ханова",
        "Необычный архитектурный ансамбль, объединяющий купола и минареты разных "
        "религий. Фотостопы на берегу Волги.",
        1400,
        31,
        3,
        20,
        0,
    ),
    DemoTour(
        "kazan-kremlin-winter",
        "Зимний Кремль и Рождественская ярмарка",
        "Казань",
        "Праздничный Кремль и ярмарка на Баумана",
        "Экскурсия по Кремлю в праздничном убранстве, горячий сбитень и ярмарка "
        "ремесленников на улице Баумана.",
        2300,
        35,
        4,
        25,
        15,
    ),
    DemoTour(
        "sabantuy-festival",
        "Сабантуй: праздник плуга",
        "Казань",
        "Главный летний праздник Татарстана",
        "Борьба куреш, бег в мешках, лазание на столб, концерт и угощение. "
        "Трансфер на Мирный майдан и обратно.",
        3500,
        205,
        8,
        50,
        47,
    ),
    DemoTour(
        "bolgar-sviyazhsk-two-days",
        "Болгар и Свияжск за два дня",
        "Болгар",
        "Два объекта ЮНЕСКО в одной поездке",
        "День первый — Свияжск, день второй — Болгар, ночь в гостинице в Болгаре, "
        "завтраки и ужины включены.",
        14900,
        95,
        36,
        24,
        5,
        nights=1,
    ),
    DemoTour(
        "raifa-and-blue-lakes",
        "Раифа и Голубые озёра",
        "Раифа",
        "Природа и святыни за один день",
        "Раифский монастырь утром, Голубые озёра после обеда. Обед в трапезной.",
        3600,
        125,
        8,
        25,
        12,
    ),
    DemoTour(
        "tetyushi-volga-cliffs",
        "Тетюши и Долгая поляна",
        "Тетюши",
        "Волжские утёсы и усадьба Молостовых",
        "Древний городок на высоком берегу Волги, Долгая поляна и самые красивые "
        "виды на реку в Татарстане.",
        4200,
        250,
        11,
        20,
        1,
    ),
    DemoTour(
        "kazan-night-photo",
        "Казань для фотографов",
        "Казань",
        "Рассвет над Кремлём и лучшие точки для съёмки",
        "Маршрут с профессиональным фотографом: рассвет на Кремлёвской набережной, "
        "Старо-Татарская слобода и Чаша.",
        3100,
        320,
        5,
        8,
        7,
    ),
]

# Names visitors use for places and sights that are not a tour's `place`:
# (name, the place it stands for, or the slug of the one tour it points at).
DEMO_ALIASES: list[tuple[str, str, str]] = [
    ("Раифский монастырь", "Раифа", ""),
    ("Булгар", "Болгар", ""),
    ("Булгары", "Болгар", ""),
    ("Великий Болгар", "Болгар", ""),
    ("Волжская Булгария", "Болгар", ""),
    ("Остров-град", "Свияжск", ""),
    ("Успенский монастырь", "Свияжск", ""),
    ("Шишкин", "Елабуга", ""),
    ("Чёртово городище", "Елабуга", ""),
    ("Пастернак", "Чистополь", ""),
    ("Долгая поляна", "Тетюши", ""),
    ("Кул-Шариф", "", "kazan-kremlin-kul-sharif"),
    ("Сююмбике", "", "kazan-kremlin-kul-sharif"),
    ("Благовещенский собор", "", "kazan-kremlin-kul-sharif"),
    ("Аракчино", "", "temple-of-all-religions"),
    ("Вселенский храм", "", "temple-of-all-religions"),
    ("Марджани", "", "kazan-old-tatar-sloboda"),
    ("озеро Кабан", "", "kazan-old-tatar-sloboda"),
    ("Туган Авылым", "", "tatar-village-ethno"),
    ("Мирный майдан", "", "sabantuy-festival"),
    ("фототур", "", "kazan-night-photo"),
    ("теплоход", "", "volga-cruise-kazan-sviyazhsk-bolgar"),
]

DEMO_BOOKINGS = [
    # reference, tour slug, contact, phone, email, participants, status
    (
        "TT-DEMO01",
        "kazan-kremlin-kul-sharif",
        "Анна Петрова",
        "+79001234567",
        "anna@example.ru",
        2,
        Booking.Status.CONFIRMED,
    ),
    (
        "TT-DEMO02",
        "sviyazhsk-island-town",
        "Ильдар Хасанов",
        "+79171234567",
        "ildar@example.ru",
        4,
        Booking.Status.PENDING,
    ),
    (
        "TT-DEMO03",
        "bolgar-ancient-city",
        "Мария Соколова",
        "+79261234567",
        "maria@example.ru",
        1,
        Booking.Status.CONFIRMED,
    ),
    (
        "TT-DEMO04",
        "elabuga-merchant-town",
        "Рустам Галиев",
        "+79031234567",
        "rustam@example.ru",
        2,
        Booking.Status.CANCELLED,
    ),
]


@transaction.atomic
def load_demo_tours(today: date | None = None) -> tuple[int, int]:
    """Create or refresh the demo tours and bookings; returns (tours created, bookings created)."""
    today = today or timezone.localdate()
    tours_created = 0
    for demo in DEMO_TOURS:
        start = today + timedelta(days=demo.days_from_now)
        _, created = Tour.objects.update_or_create(
            slug=demo.slug,
            defaults={
                "title": demo.title,
                "place": demo.place,
                "short_description": demo.short,
                "description": demo.description,
                "price_per_person": Decimal(demo.price),
                "start_date": start,
                "end_date": start + timedelta(days=demo.nights),
                "duration_hours": demo.duration_hours,
                "max_participants": demo.max_participants,
                "places_booked": demo.places_booked,
                "status": Tour.Status.PUBLISHED,
            },
        )
        tours_created += created
    bookings_created = 0
    for reference, slug, name, phone, email, participants, status in DEMO_BOOKINGS:
        _, created = Booking.objects.update_or_create(
            reference=reference,
            defaults={
                "tour": Tour.objects.get(slug=slug),
                "contact_name": name,
                "phone": phone,
                "email": email,
                "participants": participants,
                "status": status,
            },
        )
        bookings_created += created
    for name, place, slug in DEMO_ALIASES:
        SearchAlias.objects.update_or_create(
            name=name,
            defaults={"place": place, "tour": Tour.objects.get(slug=slug) if slug else None},
        )
    return tours_created, bookings_created
