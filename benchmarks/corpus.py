"""A deterministic generator of realistic synthetic news articles (the scale benchmark's archive).

Article ``i`` depends only on the seed and ``i``, so the first 1,000 articles of a
10,000-article archive are the 1,000-article archive. Each article has a topic
(politics, international affairs, sport, science, business, local news, culture,
weather, health, technology, courts, education, environment), invented people with
roles, invented places and organisations, numbers, dates, sums of money, percentages,
and direct quotes in typographic quotes; 5 to 12 paragraphs of 1 to 4 sentences.

They are written as ``.txt`` files (first line the title, then paragraphs separated
by blank lines), which ``assistant.articles`` reads like any other article.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.schemas import Article

DEFAULT_SEED = 20241017

FIRST = (
    "Amara Aldous Beatrix Callum Dalia Edmund Farida Gideon Halima Ignatius Jovana Kasimir "
    "Leonie Marek Nadia Oswin Priya Quentin Rosalind Stellan Talia Ulrich Vesna Wilhelmina "
    "Xavier Yusra Zoltan Anouk Bram Cosima Dmitri Elowen Fintan Greta Hamish Ines Jarrah "
    "Katya Lorcan Mireille Niamh Otto Paloma Rafferty Sigrun Tobias Una Valentin Wren Yara"
).split()
LAST = (
    "Abernathy Baptiste Calloway Drummond Eskelinen Fairweather Galbraith Halloran Iversen "
    "Jablonski Kettering Lindqvist Marchetti Nakamura Okonkwo Pemberton Quayle Rasmussen "
    "Szymanski Thackeray Underhill Valcourt Whitlock Yilmaz Zeller Ashdown Brannigan "
    "Castellano Delacroix Ellingham Fitzgerald Grimaldi Holloway Ishikawa Jorgensen Kowalczyk "
    "Lachance Montague Novak Oyelaran Prendergast Rourke Sorensen Tremblay Umarov Vasquez "
    "Wainwright Xu Yarrow Zielinski"
).split()
PLACE_START = "Ash Bel Cal Dun Elm Fen Glen Hart Ivy Kel Lark Mar Nor Oak Pen Ros Thorn Wex".split()
PLACE_END = "bridge by combe dale field ford ham haven holm mere moor stead ton wick worth".split()
COUNTRIES = (
    "Valdoria Ostrava Marenland Kestovia Ardania Solvany Tirelia Borvenia Calmara Drevnia"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class Topic:
    """Words and sentence templates of one news beat."""

    name: str
    titles: tuple[str, ...]
    roles: tuple[str, ...]
    orgs: tuple[str, ...]
    things: tuple[str, ...]
    sentences: tuple[str, ...]
    quotes: tuple[str, ...]


# Slots filled per sentence: {person} (a name, with role on first mention), {surname},
# {role}, {org}, {place}, {country}, {thing}, {n}, {big}, {money}, {pct}, {date}, {day},
# {year}. Templates are plain news prose so the embedding model sees realistic text.
# A table of words: a few per line reads better than one word a line.
# fmt: off
TOPICS: tuple[Topic, ...] = (
    Topic(
        "politics",
        (
            "{place} council approves {thing} after heated debate",
            "Minister defends {thing} as opposition demands inquiry",
            "Coalition talks stall over {thing}",
            "{surname} promises {money} for {thing}",
        ),
        ("the finance minister", "the opposition leader", "a junior minister", "the speaker",
         "a backbench MP", "the party chair", "the mayor"),
        ("the Ministry of Finance", "the Democratic Alliance", "the Citizens' Party",
         "the parliamentary budget committee", "the electoral commission"),
        ("the housing bill", "the regional budget", "the pension reform", "the new tax on fuel",
         "the rail franchise", "the school funding formula"),
        (
            "The vote passed by {n} to {n2}, with {n3} members abstaining.",
            "{person} said the plan would cost {money} over {n4} years.",
            "Critics at {org} argued that {thing} had been rushed through.",
            "The proposal was first tabled on {date}, but stalled in committee.",
            "Polls published on {day} put support for {thing} at {pct}.",
            "{person} is expected to face questions in parliament on {day}.",
            "Under the plan, around {big} households in {place} would be affected.",
            "A spokesperson for {org} declined to comment on the leaked figures.",
        ),
        ("This is not the time for half measures", "We were never shown the full costings",
         "The people of {place} deserve better than this", "We will not be rushed",
         "Every promise in this budget is funded"),
    ),
    Topic(
        "world",
        (
            "{country} recalls ambassador as border dispute deepens",
            "Summit in {place} ends without agreement on {thing}",
            "{country} accuses neighbour of massing troops near frontier",
            "Ceasefire talks resume as {country} offers concessions",
        ),
        ("the foreign minister", "the defence minister", "the president", "a UN envoy",
         "the prime minister", "a senior diplomat", "a military spokesperson"),
        ("the United Nations", "the regional security council", "the Red Cross",
         "the foreign ministry", "an independent monitoring mission"),
        ("the border agreement", "the grain corridor", "the sanctions package",
         "the prisoner exchange", "the arms embargo", "the peace framework"),
        (
            "{country} has moved an estimated {big} soldiers to the frontier since {month}.",
            "{person} told reporters in {place} that talks would continue on {day}.",
            "Monitors from {org} reported {n} violations of the ceasefire last week.",
            "The sanctions would freeze assets worth {money}, officials said.",
            "Neither side has confirmed the figures, which could not be independently verified.",
            "Aid agencies estimate that {big} people have fled the fighting since {year}.",
            "{person} warned that {thing} could collapse within weeks.",
            "Satellite images showed new positions about {n} kilometres from the border.",
        ),
        ("We have no proof of any withdrawal", "Diplomacy is the only way out of this",
         "Our patience is not unlimited", "We are ready to talk, but not at any price",
         "The next few days will decide everything"),
    ),
    Topic(
        "sport",
        (
            "{place} United edge past rivals in stoppage time",
            "{surname} breaks national record in {place}",
            "Coach {surname} leaves after {n} seasons",
            "Injury blow for {place} ahead of cup final",
        ),
        ("the head coach", "the team captain", "the club chairman", "the striker",
         "the goalkeeper", "the sprinter", "the team doctor"),
        ("the national federation", "the league", "the supporters' trust",
         "the anti-doping agency", "the Olympic committee"),
        ("the cup final", "the title race", "the transfer window", "the relegation battle",
         "the new stadium", "the championship"),
        (
            "{person} scored twice in the final {n} minutes to seal the win.",
            "A crowd of {big} watched the match at the {place} ground.",
            "The club confirmed a transfer fee of {money} on {day}.",
            "{person} finished in {n}.{n2} seconds, a personal best.",
            "The side have now won {n} of their last {n4} matches.",
            "{org} said it would review the incident before {date}.",
            "Ticket prices for {thing} rose by {pct} this season.",
            "{person} has been ruled out for {n} weeks with a hamstring injury.",
        ),
        ("We never stopped believing", "I have given this club everything",
         "The lads showed real character tonight", "It is the best day of my career",
         "We go again on {day}"),
    ),
    Topic(
        "science",
        (
            "Researchers in {place} map {thing} in unprecedented detail",
            "New study links {thing} to sleep quality",
            "Telescope spots signal from distant galaxy",
            "Rare beetle found in {place} woodland after {n} years",
        ),
        ("the lead author", "a marine biologist", "a physicist", "an astronomer",
         "the project director", "a geneticist", "a climate scientist"),
        ("the University of {place}", "the national science foundation",
         "the {place} Institute of Technology", "the space agency", "the natural history museum"),
        ("the coral reef", "the gut microbiome", "the ice sheet", "the protein structure",
         "the deep-sea vent", "the migratory route"),
        (
            "The team analysed {big} samples collected between {year} and {year2}.",
            "{person} said the results surprised even the researchers.",
            "The findings were published on {date} in a peer-reviewed journal.",
            "Funding of {money} came from {org}.",
            "The effect was seen in {pct} of the cases studied.",
            "Further work is planned for {month}, when a second expedition sets out.",
            "The instrument can detect changes as small as {n} parts per billion.",
            "{person} cautioned that the sample was small and more data were needed.",
        ),
        ("We did not expect the signal to be this strong", "This changes how we read the record",
         "It is a bit like finding a needle in a haystack", "Nature still has surprises for us",
         "We need to repeat this before anyone gets excited"),
    ),
    Topic(
        "business",
        (
            "{org} shares fall after profit warning",
            "{place} factory to close with loss of {n} jobs",
            "Retailer {surname} & Co reports record sales",
            "Takeover bid values {org} at {money}",
        ),
        ("the chief executive", "the finance director", "a union representative",
         "a market analyst", "the company founder", "the chair of the board"),
        ("Halvorsen Logistics", "Brightwater Foods", "Northgate Energy", "Corvid Systems",
         "Kestrel Airways", "the chamber of commerce"),
        ("the quarterly results", "the takeover", "the restructuring", "the new product line",
         "the pay offer", "the export deal"),
        (
            "Revenue rose {pct} to {money} in the three months to {month}.",
            "{person} said about {n} roles would be cut by {year}.",
            "Shares closed down {pct} on {day}.",
            "The company employs {big} people across {n} sites.",
            "Analysts at {org} had expected a smaller decline.",
            "The deal is subject to approval by regulators, expected by {date}.",
            "{person} blamed higher energy costs and weaker demand.",
            "Union members will vote on {thing} on {day}.",
        ),
        ("These are difficult but necessary decisions", "Our customers have stayed loyal",
         "We are confident in the long-term plan", "Workers are being asked to pay the price",
         "The numbers speak for themselves"),
    ),
    Topic(
        "local",
        (
            "{place} residents fight plans for {thing}",
            "Bridge in {place} to close for {n} weeks",
            "Volunteers restore {place} community garden",
            "Bus route cut leaves {place} villages isolated",
        ),
        ("a local councillor", "the parish chair", "a shop owner", "a resident",
         "the head of the residents' association", "the council's planning officer"),
        ("{place} Borough Council", "the highways department", "the residents' association",
         "the local bus operator", "the library trust"),
        ("the new car park", "the housing estate", "the library closure", "the bypass",
         "the speed cameras", "the wind turbine"),
        (
            "More than {big} people signed a petition against {thing}.",
            "{person} said the consultation closes on {date}.",
            "The work is expected to cost {money} and finish in {month}.",
            "A public meeting at the {place} village hall drew about {n} people.",
            "{org} said the decision would be reviewed in {year}.",
            "Traffic on the road has risen by {pct} since {year}.",
            "{person} has lived in {place} for {n} years.",
            "Diversions will be in place from {day}.",
        ),
        ("Nobody asked us what we wanted", "It has brought the whole street together",
         "We just want the bus back", "This town deserves a proper library",
         "We will keep fighting this"),
    ),
    Topic(
        "culture",
        (
            "{place} festival returns with {n} acts",
            "Novel by {surname} wins {thing}",
            "Museum in {place} unveils lost painting",
            "Theatre review: a bold new staging in {place}",
        ),
        ("the festival director", "the novelist", "the curator", "the conductor",
         "the lead actor", "a critic", "the gallery owner"),
        ("the {place} Arts Council", "the national gallery", "the {place} Philharmonic",
         "the book prize committee", "the heritage trust"),
        ("the literary prize", "the summer exhibition", "the opera season", "the film award",
         "the poetry prize", "the restoration project"),
        (
            "The festival sold {big} tickets, up {pct} on last year.",
            "{person} spent {n} years writing the book.",
            "The painting is insured for {money}, the museum said.",
            "The exhibition opens on {date} and runs until {month}.",
            "{org} awarded grants totalling {money} this year.",
            "The production runs for {n} nights at the {place} Playhouse.",
            "{person} described the work as a love letter to the city.",
            "Restorers removed {n} layers of varnish from the canvas.",
        ),
        ("I wrote it for my grandmother", "Art should make you a little uncomfortable",
         "We never thought we would see it again", "The audience is part of the show",
         "This prize belongs to every small press"),
    ),
    Topic(
        "weather",
        (
            "Storm warning issued for {place} coast",
            "Heatwave brings record {n}C temperatures",
            "Floods cut off {place} as river bursts banks",
            "Frost threatens {place} orchards",
        ),
        ("the chief forecaster", "a meteorologist", "the emergency planning officer",
         "a farmer", "the fire chief", "a hydrologist"),
        ("the national weather service", "the environment agency", "the coastguard",
         "the {place} fire service", "the farmers' union"),
        ("the storm", "the heatwave", "the flood defences", "the drought", "the cold snap",
         "the hosepipe ban"),
        (
            "Gusts of up to {n} miles per hour are forecast for {day}.",
            "About {big} homes lost power overnight.",
            "{person} said rainfall in {month} was {pct} above average.",
            "The warning remains in force until {date}.",
            "{org} has deployed {n} pumps to the worst-hit streets.",
            "Repairs to the sea wall are expected to cost {money}.",
            "Temperatures reached {n}C in {place}, the highest since {year}.",
            "{person} urged drivers to avoid the coast road.",
        ),
        ("Please stay away from the seafront", "We have not seen water this high in decades",
         "The crops will not survive another night like this", "Check on your neighbours",
         "It is going to get worse before it gets better"),
    ),
    Topic(
        "health",
        (
            "Waiting times at {place} hospital rise again",
            "New clinic in {place} to treat {n} patients a week",
            "Vaccination drive reaches {pct} of adults",
            "Nurses in {place} vote on strike action",
        ),
        ("the health secretary", "a consultant surgeon", "the hospital's medical director",
         "a nurse", "a GP", "the chief nursing officer"),
        ("{place} General Hospital", "the health board", "the nurses' union",
         "the public health agency", "the patients' association"),
        ("the new ward", "the vaccination programme", "the waiting list",
         "the ambulance service", "the mental health service", "the pay deal"),
        (
            "The waiting list grew to {big} people at the end of {month}.",
            "{person} said staff were working {n}-hour shifts.",
            "The health board will spend {money} on {thing}.",
            "Emergency admissions rose by {pct} compared with {year}.",
            "{org} said the strike would begin on {date} if talks failed.",
            "Around {n} beds were closed because of staff shortages.",
            "{person} urged patients to attend their appointments as normal.",
            "The clinic opens on {day}.",
        ),
        ("Patients are waiting far too long", "Our staff are exhausted",
         "This clinic will save lives", "Nobody goes into nursing to strike",
         "We are turning the corner"),
    ),
    Topic(
        "technology",
        (
            "{org} unveils battery that charges in {n} minutes",
            "Data breach exposes {big} customer records",
            "Start-up in {place} raises {money}",
            "Regulator fines {org} over app privacy",
        ),
        ("the chief technology officer", "a security researcher", "the start-up's founder",
         "the regulator's director", "a software engineer", "a privacy campaigner"),
        ("Corvid Systems", "Lumen Robotics", "the data protection authority", "Parallax Labs",
         "the telecoms regulator"),
        ("the new chip", "the software update", "the satellite network", "the encryption flaw",
         "the smart meter roll-out", "the app"),
        (
            "The company said {big} users had been notified by {day}.",
            "{person} said the flaw had been fixed within {n} hours.",
            "The fine of {money} is the largest of its kind.",
            "The battery retains {pct} of its capacity after {n} cycles.",
            "{org} plans to hire {n} engineers in {place} by {year}.",
            "The product goes on sale on {date}.",
            "{person} said customers should change their passwords.",
            "Investors in the round included {org}.",
        ),
        ("Security is not a feature you add later", "We moved as fast as we could",
         "This is a step change for electric cars", "People deserve to know where their data goes",
         "We built it in a garage in {place}"),
    ),
    Topic(
        "courts",
        (
            "{surname} jailed for {n} years over fraud",
            "Jury clears {place} man of arson",
            "Inquiry into {thing} hears from families",
            "Court orders {org} to pay {money}",
        ),
        ("the judge", "the prosecutor", "the defence barrister", "a detective inspector",
         "the inquiry chair", "a witness"),
        ("the Crown Court", "the police", "the public inquiry", "the prosecution service",
         "the court of appeal"),
        ("the fraud case", "the fire", "the collapse", "the pension scandal", "the data leak",
         "the land deal"),
        (
            "The court heard that {person} took {money} from {n} victims.",
            "The trial lasted {n} weeks.",
            "{person} told the jury the fire started shortly after {n} p.m.",
            "The inquiry has received {big} pages of evidence.",
            "Sentencing is due on {date}.",
            "{org} said it would consider an appeal.",
            "The defendant denied all {n} charges.",
            "{person} said the victims had shown great courage.",
        ),
        ("The defendant showed no remorse", "My client has always maintained his innocence",
         "We want answers, not apologies", "Justice has finally been done",
         "Lessons must be learned"),
    ),
    Topic(
        "education",
        (
            "{place} school rated outstanding by inspectors",
            "University of {place} to cut {n} courses",
            "Exam results: {pct} achieve top grades",
            "Teachers in {place} back new pay offer",
        ),
        ("the head teacher", "the vice-chancellor", "the education minister",
         "a union official", "a parent", "a sixth-former"),
        ("the University of {place}", "the schools inspectorate", "the teachers' union",
         "the exam board", "the {place} Academy Trust"),
        ("the new curriculum", "the tuition fees", "the free school meals", "the pay offer",
         "the building programme", "the exam timetable"),
        (
            "The school has {n} pupils and {n2} teaching staff.",
            "{person} said the cuts would save {money} a year.",
            "Applications rose by {pct} this year.",
            "Inspectors visited on {date} and praised the reading programme.",
            "{org} said {big} students would be affected.",
            "The new building will open in {month} {year}.",
            "{person} said the results reflected years of hard work.",
            "Teachers will vote again on {day}.",
        ),
        ("Every child here is known by name", "These courses are the heart of the university",
         "I cried when I opened the envelope", "We cannot keep doing more with less",
         "Our pupils deserve this"),
    ),
    Topic(
        "environment",
        (
            "River in {place} declared safe for swimming",
            "Wind farm off {place} approved",
            "Plastic ban cuts litter by {pct}",
            "Wildfire destroys {n} hectares near {place}",
        ),
        ("an ecologist", "the environment minister", "a campaigner", "the park ranger",
         "the water company's director", "a fisherman"),
        ("the environment agency", "the wildlife trust", "the water company",
         "Green Futures", "the national park authority"),
        ("the wind farm", "the sewage outflows", "the plastic ban", "the rewilding scheme",
         "the reservoir", "the carbon target"),
        (
            "Tests found bacteria levels fell by {pct} since {year}.",
            "The wind farm will power {big} homes, according to {org}.",
            "{person} said {n} species of bird had returned to the marsh.",
            "The project will cost {money} and be finished by {year}.",
            "Firefighters battled the blaze for {n} days.",
            "{org} was fined {money} on {date} for illegal discharges.",
            "{person} said the river was now full of life.",
            "Volunteers planted {big} trees over the winter.",
        ),
        ("The river is coming back to life", "This is a fight for the next generation",
         "We cannot keep pumping sewage into the sea", "The otters came back before we did",
         "It took ten years, but we got there"),
    ),
)
# fmt: on

#: sentences any beat may use, so that long articles repeat themselves less
GENERIC = (
    "The figures were released on {day}.",
    "{person} said more details would be published in {month}.",
    "It is the first time since {year} that {thing} has drawn such attention.",
    "A report due on {date} is expected to set out the options.",
    "{org} said it had received {n} complaints.",
    "{person} said the situation in {place} was being watched closely.",
    "The decision followed months of talks with {org}.",
    "Local media reported that about {big} people were affected.",
    "{person} did not respond to a request for comment.",
    "The total bill could reach {money}, according to an internal estimate.",
    "Officials said the timetable could slip to {year2}.",
    "{person} has been involved with {thing} since {year}.",
)
QUOTE_FORMS = (
    "“{quote},” {person} said.",
    "“{quote},” said {person}.",
    "{person} said: “{quote}.”",
    "“{quote},” {person} told reporters on {day}.",
    "Speaking in {place}, {person} said, “{quote}.”",
    "“{quote}. {quote2},” {person} added.",
)
LEADS = (
    "{person} said on {day} that {thing} would go ahead despite objections.",
    "Officials in {place} confirmed on {date} that {thing} was under review.",
    "There was fresh uncertainty over {thing} on {day} after {org} published new figures.",
    "{thing_cap} has become the talk of {place} this week.",
    "A decision on {thing} is expected within {n} weeks, {person} said.",
)


class _Writer:
    """Fills one article's templates from its own random generator."""

    def __init__(self, rng: random.Random, topic: Topic) -> None:
        self.rng = rng
        self.topic = topic
        self.place = self._place()
        self.country = rng.choice(COUNTRIES)
        self.thing = rng.choice(topic.things)
        self.year = rng.randint(2019, 2025)
        # a cast of 2-4 people, each introduced with a role on first mention
        self.people = [
            (f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(topic.roles))
            for _ in range(rng.randint(2, 4))
        ]
        self.introduced: set[str] = set()
        self._pool: list[str] = []

    def _place(self) -> str:
        return self.rng.choice(PLACE_START) + self.rng.choice(PLACE_END)

    def person(self) -> str:
        name, role = self.rng.choice(self.people)
        if name in self.introduced:
            return self.rng.choice([name, name.split()[-1]])
        self.introduced.add(name)
        return f"{name}, {role},"

    def money(self) -> str:
        currency = self.rng.choice("£$€")
        amount = self.rng.choice(
            [
                f"{self.rng.randint(5, 950) * 1000:,}",
                f"{self.rng.randint(11, 99) / 10:.1f} million",
                f"{self.rng.randint(11, 49) / 10:.1f} billion",
            ]
        )
        return f"{currency}{amount}"

    def fill(self, template: str) -> str:
        rng = self.rng
        values = {
            "place": self.place if rng.random() < 0.7 else self._place(),
            "country": self.country,
            "org": rng.choice(self.topic.orgs),
            "thing": self.thing,
            "thing_cap": self.thing[0].upper() + self.thing[1:],
            "n": str(rng.randint(2, 60)),
            "n2": str(rng.randint(2, 60)),
            "n3": str(rng.randint(1, 12)),
            "n4": str(rng.randint(3, 15)),
            "big": f"{rng.randint(1_200, 250_000):,}",
            "money": self.money(),
            "pct": f"{rng.randint(2, 89)} percent",
            "day": rng.choice(WEEKDAYS),
            "month": rng.choice(MONTHS),
            "date": f"{rng.randint(1, 28)} {rng.choice(MONTHS)}",
            "year": str(self.year),
            "year2": str(self.year + rng.randint(1, 4)),
            "surname": self.people[0][0].split()[-1],
            "role": self.people[0][1],
        }
        # {org} may itself hold {place}; formatted twice so nested slots are filled
        text = template
        if "{quote" in text:
            first, second = rng.sample(self.topic.quotes, 2)
            text = text.replace("{quote}", first).replace("{quote2}", second)
        if "{person}" in text:
            text = text.replace("{person}", self.person())
        text = text.format(**values).format(**values)
        # ", role,." and ", role, said" read badly at a sentence's end: tidy the comma
        return text.replace(",.", ".").replace(",,", ",")

    def sentence(self) -> str:
        if self.rng.random() < 0.2:
            return self.fill(self.rng.choice(QUOTE_FORMS))
        # drawn without replacement until the templates run out, as a reporter rarely
        # writes the same sentence twice
        if not self._pool:
            self._pool = [*self.topic.sentences, *GENERIC]
            self.rng.shuffle(self._pool)
        return _capitalize(self.fill(self._pool.pop()))


def _capitalize(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def make_article(i: int, seed: int = DEFAULT_SEED) -> Article:
    """Synthetic article number ``i`` (depends only on ``seed`` and ``i``)."""
    rng = random.Random(f"{seed}:{i}")
    topic = rng.choice(TOPICS)
    writer = _Writer(rng, topic)
    title = _capitalize(writer.fill(rng.choice(topic.titles)))
    paragraphs = [writer.fill(rng.choice(LEADS))]
    for _ in range(rng.randint(5, 12) - 1):
        paragraphs.append(" ".join(writer.sentence() for _ in range(rng.randint(1, 4))))
    published = f"{writer.year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return Article(
        id=f"synthetic-{i:05d}-{topic.name}",
        title=title,
        body="\n\n".join(_capitalize(p) for p in paragraphs),
        published=published,
    )


def generate(n: int, seed: int = DEFAULT_SEED) -> Iterator[Article]:
    """Articles ``0 .. n-1``."""
    for i in range(n):
        yield make_article(i, seed)


def write_corpus(folder: Path, n: int, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write ``n`` synthetic articles into ``folder`` as ``.txt`` files; their paths."""
    # plain .txt files, not assistant.articles.write_article: that one looks for other
    # files of the same id in the folder on every write, which is quadratic at 10,000
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in generate(n, seed):
        path = folder / f"{article.id}.txt"
        path.write_text(f"{article.title}\n\n{article.body}\n", encoding="utf-8")
        paths.append(path)
    return paths
