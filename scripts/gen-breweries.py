#!/usr/bin/env python3
"""Generates assets/breweries.json: a made-up sample in the Open Brewery DB API shape.

The names, addresses and phones are invented; places are real cities with rough coordinates so
that keys such as `state` and `city` spread like real data does (skewed towards a few US states).
Deterministic: the same seed gives the same file.

    python3 scripts/gen-breweries.py [COUNT] > assets/breweries.json
"""
import json
import random
import sys
import uuid

rng = random.Random(20261125)
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 2400

# (country, weight, phone prefix, postal format, [(state, [(city, lat, lon)])])
PLACES = [
    ("United States", 70, "", "#####", [
        ("California", [("San Diego", 32.72, -117.16), ("Sacramento", 38.58, -121.49), ("Santa Rosa", 38.44, -122.71), ("Los Angeles", 34.05, -118.24)]),
        ("Colorado", [("Denver", 39.74, -104.99), ("Fort Collins", 40.59, -105.08), ("Boulder", 40.01, -105.27)]),
        ("Washington", [("Seattle", 47.61, -122.33), ("Spokane", 47.66, -117.43), ("Bellingham", 48.75, -122.48)]),
        ("New York", [("Brooklyn", 40.68, -73.94), ("Buffalo", 42.89, -78.88), ("Rochester", 43.16, -77.61)]),
        ("Michigan", [("Grand Rapids", 42.96, -85.67), ("Kalamazoo", 42.29, -85.59), ("Detroit", 42.33, -83.05)]),
        ("Pennsylvania", [("Philadelphia", 39.95, -75.17), ("Pittsburgh", 40.44, -79.99)]),
        ("Oregon", [("Portland", 45.52, -122.68), ("Bend", 44.06, -121.32), ("Eugene", 44.05, -123.09)]),
        ("Texas", [("Austin", 30.27, -97.74), ("Houston", 29.76, -95.37), ("San Antonio", 29.42, -98.49)]),
        ("North Carolina", [("Asheville", 35.60, -82.55), ("Raleigh", 35.78, -78.64)]),
        ("Ohio", [("Cincinnati", 39.10, -84.51), ("Columbus", 39.96, -83.00)]),
        ("Vermont", [("Burlington", 44.48, -73.21)]),
        ("Wisconsin", [("Milwaukee", 43.04, -87.91), ("Madison", 43.07, -89.40)]),
        ("Maine", [("Portland", 43.66, -70.26)]),
        ("Alaska", [("Anchorage", 61.22, -149.90)]),
    ]),
    ("Germany", 12, "+49 ", "#####", [
        ("Bayern", [("München", 48.14, 11.58), ("Bamberg", 49.89, 10.89), ("Würzburg", 49.79, 9.95)]),
        ("Nordrhein-Westfalen", [("Köln", 50.94, 6.96), ("Düsseldorf", 51.23, 6.77)]),
        ("Baden-Württemberg", [("Stuttgart", 48.78, 9.18), ("Freiburg im Breisgau", 47.99, 7.84)]),
    ]),
    ("Australia", 5, "+61 ", "####", [
        ("VIC", [("Melbourne", -37.81, 144.96), ("Geelong", -38.15, 144.36)]),
        ("NSW", [("Sydney", -33.87, 151.21), ("Newcastle", -32.93, 151.78)]),
    ]),
    ("Belgium", 4, "+32 ", "####", [
        ("Vlaanderen", [("Gent", 51.05, 3.72), ("Brugge", 51.21, 3.22)]),
        ("Wallonie", [("Namur", 50.47, 4.87), ("Liège", 50.63, 5.57)]),
    ]),
    ("Canada", 3, "+1 ", "A#A #A#", [
        ("Québec", [("Montréal", 45.50, -73.57)]),
        ("Ontario", [("Toronto", 43.65, -79.38)]),
    ]),
    ("Ireland", 1, "+353 ", "A## A#A#", [("Dublin", [("Dublin", 53.35, -6.26)]), ("Cork", [("Cork", 51.90, -8.47)])]),
    ("England", 1, "+44 ", "AA# #AA", [("London", [("London", 51.51, -0.13)]), ("Yorkshire", [("Leeds", 53.80, -1.55)])]),
    ("South Korea", 1, "+82 ", "#####", [("Seoul", [("Seoul", 37.57, 126.98)])]),
    ("Poland", 1, "+48 ", "##-###", [("Małopolskie", [("Kraków", 50.06, 19.94)])]),
    ("Portugal", 1, "+351 ", "####-###", [("Lisboa", [("Lisboa", 38.72, -9.14)])]),
    ("Singapore", 1, "+65 ", "######", [("Singapore", [("Singapore", 1.35, 103.82)])]),
]

TYPES = [("micro", 49), ("brewpub", 33), ("planning", 5), ("closed", 5), ("regional", 2),
         ("contract", 2), ("large", 1.2), ("proprietor", 0.6), ("taproom", 0.5), ("bar", 0.4),
         ("nano", 0.4), ("cidery", 0.3), ("beergarden", 0.3), ("location", 0.3)]
FIRST = ["Iron", "Copper", "Hop", "Wild", "Old", "Red", "Black", "Golden", "Lost", "Little", "Big",
         "Rusty", "Twin", "Crooked", "Hidden", "Salty", "Foggy", "Stone", "River", "Mountain",
         "Harbor", "Prairie", "Lucky", "Barrel", "Three", "Seven", "North", "Brass", "Oak", "Cedar"]
SECOND = ["Anchor", "Fox", "Owl", "Bear", "Kettle", "Lantern", "Mill", "Bridge", "Crow", "Pine",
          "Rabbit", "Wolf", "Goat", "Hollow", "Ridge", "Creek", "Yard", "Gate", "Barn", "Tide"]
SUFFIX = ["Brewing Company", "Brewing Co", "Brewery", "Beer Company", "Ales", "Brewhouse",
          "Craft Brewery", "Brewing", "Aleworks", "Taproom"]
LOCAL_SUFFIX = {"Germany": ["Brauerei", "Bräu", "Brauhaus"], "Belgium": ["Brouwerij", "Brasserie"],
                "Poland": ["Browar"], "Portugal": ["Cervejaria"], "Canada": ["Microbrasserie", "Brewing Co"]}
STREETS = ["Main St", "Market St", "Industrial Way", "Water St", "Broadway", "Elm St", "2nd Ave",
           "Hauptstraße", "Bahnhofstraße", "Rue de la Station", "Kerkstraat", "High Street", "Rua Augusta"]


def pick(weighted):
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def postal(fmt):
    return "".join(str(rng.randint(0, 9)) if c == "#" else rng.choice("ABCDEFGHJKLMNPRSTVWXY") if c == "A" else c for c in fmt)


def brewery():
    country, _, prefix, fmt, states = pick([(p, p[1]) for p in PLACES])
    # Zipf-like: the first states listed get most breweries, as in the real data.
    state, cities = rng.choices(states, [1 / (i + 1) for i in range(len(states))])[0]
    city, lat, lon = rng.choice(cities)
    suffix = rng.choice(LOCAL_SUFFIX.get(country, SUFFIX) + SUFFIX[:3])
    name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {suffix}"
    if rng.random() < 0.05:
        name = f"{city} {suffix}"
    street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
    area = f"{rng.randint(200, 989)}{rng.randint(1000000, 9999999)}"
    has_coords = rng.random() > 0.2
    slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    tld = {"Germany": "de", "Belgium": "be", "Australia": "com.au", "Poland": "pl"}.get(country, "com")
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": name,
        "brewery_type": pick(TYPES),
        "address_1": street if rng.random() > 0.08 else None,
        "address_2": f"Suite {rng.randint(100, 400)}" if rng.random() < 0.03 else None,
        "address_3": None,
        "city": city,
        "state_province": state,
        "postal_code": postal(fmt),
        "country": country,
        "longitude": round(lon + rng.uniform(-0.2, 0.2), 7) if has_coords else None,
        "latitude": round(lat + rng.uniform(-0.2, 0.2), 7) if has_coords else None,
        "phone": prefix + area if rng.random() > 0.11 else None,
        "website_url": f"http://www.{slug}.{tld}" if rng.random() > 0.11 else None,
    }


records = []
for _ in range(COUNT):
    r = brewery()
    # The API still serves the deprecated duplicates `state` and `street`.
    r["state"] = r["state_province"]
    r["street"] = r["address_1"]
    records.append(r)
records.sort(key=lambda r: r["name"].lower())
json.dump(records, sys.stdout, ensure_ascii=False, indent=None, separators=(", ", ": "))
sys.stdout.write("\n")
