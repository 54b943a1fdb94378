"""Built-in reference lists for synthetic people: names, nicknames, streets and cities.

Data only. Every phone range here is one that telephone regulators keep for fiction (NANP 555 numbers, Ofcom's
drama ranges) and every email domain is reserved for examples, so no synthetic record can reach a real person.
"""

from __future__ import annotations

from typing import Final, NamedTuple


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES: Final = _words(
    """
    Aaron Abigail Ada Adam Adrian Aisha Alan Albert Alexander Alexandra Alice Alicia Amanda Amelia Amir Amy Ana
    Andrea Andrew Angela Anna Anthony Arjun Arthur Ashley Audrey Barbara Beatrice Benjamin Bernard Beth Brandon
    Brian Bruno Caleb Camila Carlos Carmen Caroline Catherine Charles Charlotte Chen Chloe Christina Christine
    Christopher Clara Daniel David Deborah Dennis Diana Diego Dmitri Dorothy Douglas Edward Eleanor Elena Elijah
    Elizabeth Ella Emily Emma Eric Ethan Eva Evelyn Fatima Felix Fiona Frances Francisco Frederick Gabriel Gary
    George Gerald Grace Gregory Hannah Harold Harper Harry Hassan Helen Henry Hiroshi Hugo Ian Isaac Isabella Ivan
    Jack Jacob James Jane Janet Jason Javier Jennifer Jessica Joan John Jonathan Jorge Joseph Joshua Joyce Juan
    Judith Julia Julian Justin Karen Katherine Keith Kenneth Kevin Kimberly Laura Lawrence Leah Leo Liam Lily Linda
    Lucas Lucy Luis Madison Margaret Maria Mark Martha Martin Mary Mason Matthew Maya Mei Megan Melissa Mia Michael
    Michelle Miguel Mohammed Nancy Natalie Nathaniel Nicholas Nicole Noah Nora Olivia Omar Oscar Pamela Patricia
    Patrick Paul Peter Philip Priya Rachel Rafael Rahul Raymond Rebecca Richard Robert Ronald Rose Ruth Ryan
    Samantha Samuel Sandra Sarah Scott Sean Sofia Sophie Stephen Steven Susan Teresa Theodore Thomas Timothy
    Valentina Victoria Vincent Walter William Yasmin Yuki Zachary Zoe
    """
)

LAST_NAMES: Final = _words(
    """
    Abbott Adams Ahmed Alexander Ali Allen Alvarez Anderson Andrews Armstrong Bailey Baker Banerjee Barnes Bell
    Bennett Bishop Brooks Brown Bryant Burke Butler Campbell Carter Castillo Chan Chavez Chen Clark Cole Coleman
    Collins Cook Cooper Cox Cruz Davies Davis Diaz Dixon Doyle Edwards Ellis Evans Fernandez Fisher Fleming Flores
    Ford Foster Fox Garcia Gibson Gomez Gonzalez Gordon Graham Grant Gray Green Griffin Gupta Hall Hamilton Harris
    Hart Hayes Henderson Hernandez Hill Holmes Howard Hughes Hunt Hussain Jackson James Jenkins Johnson Jones Jordan
    Kapoor Kaur Kelly Kennedy Khan Kim King Knight Kowalski Kumar Lam Lee Lewis Lopez Marshall Martin Martinez Mason
    Matthews Mendoza Miller Mitchell Moore Morales Morgan Morris Murphy Murray Myers Nakamura Nelson Nguyen Novak
    O'Brien O'Connor Ortiz Owens Palmer Parker Patel Perez Perry Peters Phillips Powell Price Quinn Ramirez Reed
    Reyes Reynolds Richardson Rivera Roberts Robinson Rodriguez Rogers Ross Russell Ryan Sanchez Sanders Santos
    Schmidt Scott Shah Shaw Silva Simmons Simpson Singh Smith Spencer Stevens Stewart Sullivan Tanaka Taylor Thomas
    Thompson Torres Tran Turner Walker Wallace Walsh Wang Ward Watson Webb Wells West White Williams Wilson Wood
    Wright Wu Yamamoto Yang Young Zhang
    """
)

# What a person may be called instead of their first name: by an agent on the phone, in a CRM, in an email.
NICKNAMES: Final = dict(
    pair.split(":")
    for pair in _words(
        """
        Abigail:Abby Alexander:Alex Alexandra:Sasha Andrew:Andy Anthony:Tony Benjamin:Ben Catherine:Cathy
        Charles:Charlie Christina:Tina Christine:Chris Christopher:Chris Daniel:Dan Deborah:Debbie Dorothy:Dot
        Douglas:Doug Edward:Ed Eleanor:Ellie Elizabeth:Liz Frederick:Fred Gerald:Gerry Gregory:Greg Isabella:Bella
        Jacob:Jake James:Jim Jennifer:Jen Jessica:Jess John:Jack Jonathan:Jon Joseph:Joe Joshua:Josh Katherine:Kate
        Kenneth:Ken Kimberly:Kim Lawrence:Larry Margaret:Maggie Matthew:Matt Michael:Mike Nathaniel:Nate
        Nicholas:Nick Pamela:Pam Patricia:Patty Peter:Pete Raymond:Ray Rebecca:Becky Richard:Rick Robert:Bob
        Ronald:Ron Samantha:Sam Samuel:Sam Stephen:Steve Steven:Steve Susan:Sue Theodore:Ted Thomas:Tom Timothy:Tim
        Victoria:Vicky William:Bill Zachary:Zach
        """
    )
)

STREET_NAMES: Final = _words(
    """
    Acacia Ash Aspen Bay Beech Birch Bridge Broad Cedar Chapel Cherry Church Clifton Cypress Dogwood Elm Forest
    Garden Granite Green Harbor Hawthorn Hazel Heather Highland Hill Holly Juniper Lake Laurel Linden Magnolia Maple
    Meadow Mill Oak Orchard Park Pine Poplar Queen Ridge River Rose Spring Station Sycamore Valley Victoria Walnut
    Willow Windsor York
    """
)
US_STREET_SUFFIXES: Final = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl")
GB_STREET_SUFFIXES: Final = ("Road", "Street", "Lane", "Close", "Avenue", "Gardens", "Crescent", "Way")


class UsCity(NamedTuple):
    """A US city, its area code and the first three digits of its ZIP codes."""

    name: str
    state: str
    area_code: str
    zip_prefix: str


class GbCity(NamedTuple):
    """A UK city, its Ofcom drama-range prefix (national significant number without the last digits), postcode area."""

    name: str
    drama_prefix: str
    postcode_area: str


US_CITIES: Final = (
    UsCity("New York", "NY", "212", "100"),
    UsCity("Brooklyn", "NY", "718", "112"),
    UsCity("Los Angeles", "CA", "213", "900"),
    UsCity("San Francisco", "CA", "415", "941"),
    UsCity("San Diego", "CA", "619", "921"),
    UsCity("San Jose", "CA", "408", "951"),
    UsCity("Oakland", "CA", "510", "946"),
    UsCity("Chicago", "IL", "312", "606"),
    UsCity("Houston", "TX", "713", "770"),
    UsCity("Dallas", "TX", "214", "752"),
    UsCity("Austin", "TX", "512", "787"),
    UsCity("San Antonio", "TX", "210", "782"),
    UsCity("Phoenix", "AZ", "602", "850"),
    UsCity("Philadelphia", "PA", "215", "191"),
    UsCity("Pittsburgh", "PA", "412", "152"),
    UsCity("Seattle", "WA", "206", "981"),
    UsCity("Portland", "OR", "503", "972"),
    UsCity("Denver", "CO", "303", "802"),
    UsCity("Boston", "MA", "617", "021"),
    UsCity("Atlanta", "GA", "404", "303"),
    UsCity("Miami", "FL", "305", "331"),
    UsCity("Orlando", "FL", "407", "328"),
    UsCity("Tampa", "FL", "813", "336"),
    UsCity("Detroit", "MI", "313", "482"),
    UsCity("Minneapolis", "MN", "612", "554"),
    UsCity("St. Louis", "MO", "314", "631"),
    UsCity("Kansas City", "MO", "816", "641"),
    UsCity("Nashville", "TN", "615", "372"),
    UsCity("Charlotte", "NC", "704", "282"),
    UsCity("Raleigh", "NC", "919", "276"),
    UsCity("Baltimore", "MD", "410", "212"),
    UsCity("Washington", "DC", "202", "200"),
    UsCity("Columbus", "OH", "614", "432"),
    UsCity("Cleveland", "OH", "216", "441"),
    UsCity("Indianapolis", "IN", "317", "462"),
    UsCity("Milwaukee", "WI", "414", "532"),
    UsCity("Salt Lake City", "UT", "801", "841"),
    UsCity("Las Vegas", "NV", "702", "891"),
    UsCity("New Orleans", "LA", "504", "701"),
    UsCity("Honolulu", "HI", "808", "968"),
)

# Ofcom keeps 1,000 numbers in each of these ranges for drama; the last three digits vary.
GB_CITIES: Final = (
    GbCity("London", "2079460", "SW"),
    GbCity("Leeds", "1134960", "LS"),
    GbCity("Sheffield", "1144960", "S"),
    GbCity("Nottingham", "1154960", "NG"),
    GbCity("Leicester", "1164960", "LE"),
    GbCity("Bristol", "1174960", "BS"),
    GbCity("Reading", "1184960", "RG"),
    GbCity("Birmingham", "1214960", "B"),
    GbCity("Edinburgh", "1314960", "EH"),
    GbCity("Glasgow", "1414960", "G"),
    GbCity("Liverpool", "1514960", "L"),
    GbCity("Manchester", "1614960", "M"),
    GbCity("Newcastle", "1914980", "NE"),
    GbCity("Belfast", "2896496", "BT"),
    GbCity("Cardiff", "2920180", "CF"),
)
GB_MOBILE_PREFIX: Final = "7700900"  # 07700 900000-900999, Ofcom's drama mobiles

EMAIL_DOMAINS: Final = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "inbox.example.org",
    "post.example.net",
    "corp.example.com",
)
