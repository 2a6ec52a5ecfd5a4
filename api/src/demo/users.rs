//! A deterministic generator of realistic registered users, for demos, imports and
//! benchmarks.
//!
//! [`UserGenerator`] is an endless iterator of [`UserDraft`]s (take as many as needed):
//! the same seed and arguments always give the same users, byte for byte. What it
//! produces looks like what an OTT operator in Chile sends:
//!
//! - ids `u0000001`, `u0000002`, … in order, so they are unique and stable;
//! - Spanish / Latin American names (Portuguese for Brazil, English for most of the US)
//!   consistent with the gender, with names in fashion for the younger users;
//! - gender FEMALE 48 %, MALE 47 %, OTHER 2 %, missing 3 %;
//! - ages at registration mostly 18–65 peaking at 25–40, 5 % under 18, 3 % over 65 and
//!   6 % without a birth date;
//! - registrations that grow over the period, peak on weekends and in the evening (home
//!   local time) and jump 3–5× on a few campaign days;
//! - 80 % in the home country (for Chile with region and commune weighted by population),
//!   15 % abroad and 5 % without a country;
//! - under 2 % of messy but valid values: lower-case codes, padded places.
//!
//! [`write_csv`] and [`write_ndjson`] write drafts in the import formats.

use std::io::{self, BufWriter, Write};

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::user::UserDraft;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

const SECS_PER_HOUR: i64 = 3_600;
const SECS_PER_DAY: i64 = 86_400;

/// The CSV columns, in order.
const CSV_HEADER: [&str; 8] = ["id", "name", "gender", "birthDate", "country", "state", "city", "registeredAt"];

/// The home code used when the one given is not an ISO 3166-1 alpha-2 code.
const FALLBACK_HOME: &str = "CL";

// ---------------------------------------------------------------------------------------
// Shares
// ---------------------------------------------------------------------------------------

const SHARE_HOME: f64 = 0.80;
const SHARE_FOREIGN: f64 = 0.15;

const SHARE_FEMALE: f64 = 0.48;
const SHARE_MALE: f64 = 0.47;
const SHARE_OTHER: f64 = 0.02;

const SHARE_NO_BIRTH_DATE: f64 = 0.06;
const SHARE_UNDER_18: f64 = 0.05;
const SHARE_OVER_65: f64 = 0.03;

/// Home users (with a regional table) without state and city, and with state only.
const SHARE_HOME_NO_PLACE: f64 = 0.03;
const SHARE_HOME_NO_CITY: f64 = 0.03;

/// Foreign users with a city only, and with state and city (the rest have neither).
const SHARE_FOREIGN_CITY: f64 = 0.30;
const SHARE_FOREIGN_STATE_CITY: f64 = 0.10;

/// Messy but valid input; together well under 2 % of the users.
const MESSY_COUNTRY_CASE: f64 = 0.005;
const MESSY_PLACE_SPACES: f64 = 0.006;
const MESSY_GENDER_CASE: f64 = 0.003;

// ---------------------------------------------------------------------------------------
// Time profile
// ---------------------------------------------------------------------------------------

/// Relative registrations by local hour, Monday to Friday.
const WEEKDAY_HOURS: [f64; 24] = [
    0.90, 0.50, 0.30, 0.20, 0.15, 0.20, 0.40, 0.70, 0.90, 1.00, 1.05, 1.10, //
    1.25, 1.30, 1.15, 1.10, 1.20, 1.40, 1.70, 2.10, 2.50, 2.70, 2.30, 1.60,
];

/// Relative registrations by local hour on Saturday and Sunday: later mornings, busier
/// afternoons and late nights.
const WEEKEND_HOURS: [f64; 24] = [
    1.30, 0.90, 0.55, 0.35, 0.25, 0.20, 0.25, 0.40, 0.65, 0.95, 1.20, 1.40, //
    1.55, 1.60, 1.55, 1.50, 1.55, 1.65, 1.85, 2.20, 2.50, 2.60, 2.30, 1.80,
];

/// Relative volume by local weekday, Monday first.
const WEEKDAY_FACTOR: [f64; 7] = [0.93, 0.91, 0.93, 0.96, 1.06, 1.18, 1.14];

/// Last day's volume over the first day's, per year of the period (capped at 3 years).
const GROWTH_PER_YEAR: f64 = 1.5;

/// One campaign day per this many days (at least one in a period of two weeks or more).
const DAYS_PER_CAMPAIGN: i64 = 60;

/// Of a campaign's extra volume, the part that carries over to the next day.
const CAMPAIGN_TAIL: f64 = 0.3;

/// The home country's offset from UTC in hours, by month (an approximation of the
/// daylight-saving rules: good enough for a daily cycle).
fn utc_offset_hours(home: &str, month: u32) -> i64 {
    // Southern summer time runs September–March, northern April–October.
    let southern_summer = i64::from(!(4..=8).contains(&month));
    let northern_summer = i64::from((4..=10).contains(&month));
    match home {
        "CL" | "PY" => -4 + southern_summer,
        "AR" | "BR" | "UY" => -3,
        "BO" | "VE" | "DO" | "PR" => -4,
        "PE" | "CO" | "EC" | "PA" => -5,
        "MX" | "GT" | "SV" | "HN" | "NI" | "CR" => -6,
        "US" | "CA" => -5 + northern_summer,
        "ES" | "FR" | "IT" | "DE" => 1 + northern_summer,
        "PT" | "GB" => northern_summer,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------
// Geography
// ---------------------------------------------------------------------------------------

struct Region {
    name: &'static str,
    /// Thousands of inhabitants (2017 census).
    population: f64,
    /// Main communes, with thousands of inhabitants (2017 census).
    cities: &'static [(&'static str, f64)],
}

/// Chile's sixteen regions, north to south.
const CL_REGIONS: &[Region] = &[
    Region {
        name: "Arica y Parinacota",
        population: 226.1,
        cities: &[("Arica", 221.4), ("Putre", 2.8), ("Camarones", 1.3), ("General Lagos", 0.7)],
    },
    Region {
        name: "Tarapacá",
        population: 330.6,
        cities: &[("Iquique", 191.5), ("Alto Hospicio", 108.4), ("Pozo Almonte", 15.7), ("Pica", 9.3), ("Huara", 3.0)],
    },
    Region {
        name: "Antofagasta",
        population: 607.5,
        cities: &[
            ("Antofagasta", 361.9),
            ("Calama", 165.7),
            ("Tocopilla", 25.2),
            ("Mejillones", 13.5),
            ("Taltal", 13.3),
            ("San Pedro de Atacama", 10.9),
        ],
    },
    Region {
        name: "Atacama",
        population: 286.2,
        cities: &[
            ("Copiapó", 153.9),
            ("Vallenar", 51.9),
            ("Caldera", 17.7),
            ("Diego de Almagro", 13.9),
            ("Chañaral", 12.2),
            ("Huasco", 10.1),
        ],
    },
    Region {
        name: "Coquimbo",
        population: 757.6,
        cities: &[
            ("Coquimbo", 227.7),
            ("La Serena", 221.1),
            ("Ovalle", 111.3),
            ("Illapel", 30.8),
            ("Salamanca", 29.3),
            ("Vicuña", 27.8),
            ("Los Vilos", 21.4),
        ],
    },
    Region {
        name: "Valparaíso",
        population: 1_815.9,
        cities: &[
            ("Viña del Mar", 334.2),
            ("Valparaíso", 296.7),
            ("Quilpué", 151.7),
            ("Villa Alemana", 126.5),
            ("San Antonio", 91.4),
            ("Quillota", 90.5),
            ("San Felipe", 76.8),
            ("Los Andes", 66.7),
        ],
    },
    Region {
        name: "Región Metropolitana de Santiago",
        population: 7_112.8,
        cities: &[
            ("Puente Alto", 568.1),
            ("Maipú", 521.6),
            ("Santiago", 404.5),
            ("La Florida", 366.9),
            ("San Bernardo", 301.3),
            ("Las Condes", 294.8),
            ("Peñalolén", 241.6),
            ("Ñuñoa", 208.2),
        ],
    },
    Region {
        name: "O'Higgins",
        population: 914.6,
        cities: &[
            ("Rancagua", 241.8),
            ("San Fernando", 73.9),
            ("Rengo", 58.8),
            ("Machalí", 52.5),
            ("Santa Cruz", 37.9),
            ("Pichilemu", 16.4),
        ],
    },
    Region {
        name: "Maule",
        population: 1_044.9,
        cities: &[
            ("Talca", 220.4),
            ("Curicó", 149.1),
            ("Linares", 93.6),
            ("Constitución", 46.1),
            ("Molina", 45.9),
            ("Parral", 41.6),
            ("Cauquenes", 40.4),
        ],
    },
    Region {
        name: "Ñuble",
        population: 480.6,
        cities: &[
            ("Chillán", 184.7),
            ("San Carlos", 53.0),
            ("Chillán Viejo", 30.9),
            ("Coihueco", 26.9),
            ("Bulnes", 21.5),
            ("Quirihue", 11.6),
        ],
    },
    Region {
        name: "Biobío",
        population: 1_556.8,
        cities: &[
            ("Concepción", 223.6),
            ("Los Ángeles", 202.3),
            ("Talcahuano", 151.7),
            ("San Pedro de la Paz", 131.8),
            ("Coronel", 116.3),
            ("Hualpén", 91.8),
            ("Chiguayante", 85.9),
            ("Lota", 43.5),
        ],
    },
    Region {
        name: "Araucanía",
        population: 957.2,
        cities: &[
            ("Temuco", 282.4),
            ("Padre Las Casas", 76.1),
            ("Villarrica", 55.5),
            ("Angol", 53.3),
            ("Lautaro", 38.0),
            ("Victoria", 34.4),
            ("Pucón", 28.5),
        ],
    },
    Region {
        name: "Los Ríos",
        population: 384.8,
        cities: &[
            ("Valdivia", 166.1),
            ("La Unión", 38.0),
            ("Panguipulli", 34.5),
            ("Río Bueno", 31.4),
            ("Paillaco", 20.2),
            ("Lanco", 16.8),
        ],
    },
    Region {
        name: "Los Lagos",
        population: 828.7,
        cities: &[
            ("Puerto Montt", 245.9),
            ("Osorno", 161.5),
            ("Puerto Varas", 44.6),
            ("Castro", 43.8),
            ("Ancud", 38.9),
            ("Calbuco", 34.0),
            ("Quellón", 27.2),
        ],
    },
    Region {
        name: "Aysén",
        population: 103.2,
        cities: &[
            ("Coyhaique", 57.8),
            ("Puerto Aysén", 23.9),
            ("Cisnes", 6.5),
            ("Chile Chico", 4.9),
            ("Cochrane", 3.5),
        ],
    },
    Region {
        name: "Magallanes",
        population: 166.5,
        cities: &[("Punta Arenas", 131.6), ("Puerto Natales", 21.5), ("Porvenir", 7.3), ("Puerto Williams", 2.1)],
    },
];

/// Countries users register from when abroad, with relative weights.
const FOREIGN_COUNTRIES: &[(&str, f64)] = &[
    ("AR", 18.0),
    ("PE", 16.0),
    ("VE", 14.0),
    ("CO", 12.0),
    ("BO", 9.0),
    ("ES", 8.0),
    ("US", 8.0),
    ("BR", 6.0),
    ("MX", 5.0),
    ("EC", 4.0),
];

/// Weight of Chile among the foreign countries of another home.
const CL_AS_FOREIGN_WEIGHT: f64 = 12.0;

/// A few (state, city) pairs per foreign country, most common first.
const FOREIGN_PLACES: &[(&str, &[(&str, &str)])] = &[
    (
        "AR",
        &[
            ("Ciudad Autónoma de Buenos Aires", "Buenos Aires"),
            ("Córdoba", "Córdoba"),
            ("Santa Fe", "Rosario"),
            ("Mendoza", "Mendoza"),
            ("Buenos Aires", "La Plata"),
            ("Neuquén", "Neuquén"),
        ],
    ),
    (
        "PE",
        &[
            ("Lima", "Lima"),
            ("Arequipa", "Arequipa"),
            ("La Libertad", "Trujillo"),
            ("Tacna", "Tacna"),
            ("Cusco", "Cusco"),
        ],
    ),
    (
        "VE",
        &[("Distrito Capital", "Caracas"), ("Zulia", "Maracaibo"), ("Carabobo", "Valencia"), ("Lara", "Barquisimeto")],
    ),
    (
        "CO",
        &[
            ("Bogotá D.C.", "Bogotá"),
            ("Antioquia", "Medellín"),
            ("Valle del Cauca", "Cali"),
            ("Atlántico", "Barranquilla"),
        ],
    ),
    (
        "BO",
        &[
            ("La Paz", "La Paz"),
            ("Santa Cruz", "Santa Cruz de la Sierra"),
            ("La Paz", "El Alto"),
            ("Cochabamba", "Cochabamba"),
            ("Oruro", "Oruro"),
        ],
    ),
    (
        "ES",
        &[
            ("Comunidad de Madrid", "Madrid"),
            ("Cataluña", "Barcelona"),
            ("Comunidad Valenciana", "Valencia"),
            ("Andalucía", "Sevilla"),
        ],
    ),
    ("US", &[("Florida", "Miami"), ("California", "Los Angeles"), ("New York", "New York"), ("Texas", "Houston")]),
    (
        "BR",
        &[
            ("São Paulo", "São Paulo"),
            ("Rio de Janeiro", "Rio de Janeiro"),
            ("Santa Catarina", "Florianópolis"),
            ("Minas Gerais", "Belo Horizonte"),
        ],
    ),
    (
        "MX",
        &[
            ("Ciudad de México", "Ciudad de México"),
            ("Jalisco", "Guadalajara"),
            ("Nuevo León", "Monterrey"),
            ("Puebla", "Puebla"),
        ],
    ),
    ("EC", &[("Pichincha", "Quito"), ("Guayas", "Guayaquil"), ("Azuay", "Cuenca")]),
];

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

#[rustfmt::skip]
const ES_FEMALE_NEW: &[&str] = &[
    "Sofía", "Isidora", "Florencia", "Agustina", "Emilia", "Josefa", "Martina", "Trinidad",
    "Antonella", "Valentina", "Maite", "Catalina", "Amanda", "Julieta", "Renata", "Antonia", "Emma",
    "Isabella", "Colomba", "Mía", "Ignacia", "Amparo", "Aurora", "Rafaela", "Fernanda", "Javiera",
    "Constanza", "Millaray",
];
#[rustfmt::skip]
const ES_FEMALE_OLD: &[&str] = &[
    "María José", "Camila", "Francisca", "Daniela", "Carolina", "Paula", "Andrea", "Claudia",
    "Patricia", "Gabriela", "Macarena", "Ximena", "Verónica", "Marcela", "Paulina", "Lorena",
    "Alejandra", "Carmen", "Rosa", "Ana María", "Isabel", "Cecilia", "Mónica", "Javiera",
    "Constanza", "Natalia", "Valeria", "Bárbara", "Pamela", "Karina", "Soledad", "Gloria",
    "Margarita", "Elizabeth", "Jacqueline", "María Paz", "Fernanda", "Catalina",
];
#[rustfmt::skip]
const ES_MALE_NEW: &[&str] = &[
    "Benjamín", "Vicente", "Martín", "Mateo", "Joaquín", "Agustín", "Tomás", "Lucas", "Maximiliano",
    "Cristóbal", "Bastián", "Gaspar", "Santiago", "Alonso", "Facundo", "Matías", "Diego",
    "Sebastián", "Emilio", "León", "Julián", "Gabriel", "Thiago", "Ignacio", "Nicolás", "Felipe",
];
#[rustfmt::skip]
const ES_MALE_OLD: &[&str] = &[
    "José", "Juan", "Luis", "Carlos", "Jorge", "Manuel", "Pedro", "Francisco", "Juan Pablo",
    "Rodrigo", "Gonzalo", "Cristián", "Alejandro", "Mauricio", "Claudio", "Patricio", "Andrés",
    "Pablo", "Felipe", "Sebastián", "Daniel", "Fernando", "Rafael", "Ricardo", "Sergio", "Héctor",
    "Víctor", "Marcelo", "Hernán", "Eduardo", "Raúl", "Óscar", "Miguel", "Roberto", "Iván",
    "Nelson", "Javier", "Ignacio",
];
/// Chilean surnames, most frequent first.
#[rustfmt::skip]
const ES_SURNAMES: &[&str] = &[
    "González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
    "Sepúlveda", "Morales", "Rodríguez", "López", "Araya", "Fuentes", "Hernández", "Torres",
    "Espinoza", "Flores", "Castillo", "Valenzuela", "Ramírez", "Reyes", "Gutiérrez", "Castro",
    "Vargas", "Álvarez", "Vásquez", "Tapia", "Fernández", "Sánchez", "Carrasco", "Gómez", "Cortés",
    "Herrera", "Núñez", "Jara", "Vergara", "Rivera", "Figueroa", "Riquelme", "García", "Miranda",
    "Bravo", "Vera", "Molina", "Vega", "Campos", "Sandoval", "Orellana", "Zúñiga", "Olivares",
    "Alarcón", "Gallardo", "Ortiz", "Garrido", "Salazar", "Guzmán", "Henríquez", "Saavedra",
    "Navarro", "Aguilera", "Parra", "Romero", "Aravena", "Pizarro", "Godoy", "Peña", "Cáceres",
    "Leiva", "Escobar", "Yáñez", "Valdés", "Vidal", "Salinas", "Cárdenas", "Jiménez", "Ruiz",
    "Lagos", "Maldonado", "Bustos", "Medina", "Pino", "Palma", "Moreno", "Sanhueza", "Carvajal",
    "Navarrete", "Sáez", "Alvarado", "Donoso", "Poblete", "Bustamante", "Toro", "Ortega", "Venegas",
    "Guerrero", "Paredes", "Farías", "San Martín", "Huenchullán", "Painemal", "Catrileo",
    "Millapán", "Ñancupil",
];

#[rustfmt::skip]
const PT_FEMALE: &[&str] = &[
    "Ana", "Maria", "Juliana", "Fernanda", "Camila", "Beatriz", "Larissa", "Mariana", "Gabriela",
    "Letícia", "Amanda", "Bruna", "Luana", "Alice", "Helena",
];
#[rustfmt::skip]
const PT_MALE: &[&str] = &[
    "João", "Pedro", "Lucas", "Gabriel", "Matheus", "Rafael", "Gustavo", "Felipe", "Bruno",
    "Thiago", "Rodrigo", "Carlos", "Miguel", "Arthur", "Davi",
];
#[rustfmt::skip]
const PT_SURNAMES: &[&str] = &[
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Araújo", "Barbosa",
];

#[rustfmt::skip]
const EN_FEMALE: &[&str] = &[
    "Mary", "Jennifer", "Emily", "Jessica", "Sarah", "Ashley", "Emma", "Olivia", "Elizabeth",
    "Megan", "Hannah", "Madison",
];
#[rustfmt::skip]
const EN_MALE: &[&str] = &[
    "James", "Michael", "John", "David", "Robert", "William", "Christopher", "Daniel", "Matthew",
    "Ryan", "Andrew", "Joshua",
];
#[rustfmt::skip]
const EN_SURNAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White", "Harris",
];

// ---------------------------------------------------------------------------------------
// Sampling helpers
// ---------------------------------------------------------------------------------------

/// Picks an index with probability proportional to its weight.
#[derive(Debug, Clone)]
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    /// Zipf-like weights for a list ordered from most to least frequent.
    fn ranked(len: usize) -> Weighted {
        Weighted::new((0..len).map(|i| 1.0 / (i as f64 + 4.0)))
    }

    fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let x = rng.random::<f64>() * self.total();
        let i = self.cumulative.partition_point(|&c| c <= x);
        i.min(self.cumulative.len().saturating_sub(1))
    }
}

/// A list of names picked by rank.
#[derive(Debug, Clone)]
struct NameList {
    items: &'static [&'static str],
    weights: Weighted,
}

impl NameList {
    fn new(items: &'static [&'static str]) -> NameList {
        NameList { items, weights: Weighted::ranked(items.len()) }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> &'static str {
        self.items.get(self.weights.sample(rng)).copied().unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Culture {
    Hispanic,
    Portuguese,
    English,
}

/// The names of one culture: first names in fashion now and before, and surnames.
#[derive(Debug, Clone)]
struct Names {
    female_new: NameList,
    female_old: NameList,
    male_new: NameList,
    male_old: NameList,
    surnames: NameList,
}

impl Names {
    fn of(culture: Culture) -> Names {
        let (female_new, female_old, male_new, male_old, surnames) = match culture {
            Culture::Hispanic => (ES_FEMALE_NEW, ES_FEMALE_OLD, ES_MALE_NEW, ES_MALE_OLD, ES_SURNAMES),
            Culture::Portuguese => (PT_FEMALE, PT_FEMALE, PT_MALE, PT_MALE, PT_SURNAMES),
            Culture::English => (EN_FEMALE, EN_FEMALE, EN_MALE, EN_MALE, EN_SURNAMES),
        };
        Names {
            female_new: NameList::new(female_new),
            female_old: NameList::new(female_old),
            male_new: NameList::new(male_new),
            male_old: NameList::new(male_old),
            surnames: NameList::new(surnames),
        }
    }
}

/// A place table: regions weighted by population, each with its cities.
#[derive(Debug, Clone)]
struct RegionTable {
    regions: Weighted,
    cities: Vec<Weighted>,
}

impl RegionTable {
    fn chile() -> RegionTable {
        RegionTable {
            regions: Weighted::new(CL_REGIONS.iter().map(|r| r.population)),
            cities: CL_REGIONS.iter().map(|r| Weighted::new(r.cities.iter().map(|c| c.1))).collect(),
        }
    }

    /// A region and one of its cities.
    fn pick(&self, rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
        let r = self.regions.sample(rng);
        let Some(region) = CL_REGIONS.get(r) else {
            return ("", "");
        };
        let c = self.cities.get(r).map_or(0, |w| w.sample(rng));
        let city = region.cities.get(c).map_or("", |c| c.0);
        (region.name, city)
    }
}

// ---------------------------------------------------------------------------------------
// Registration instants
// ---------------------------------------------------------------------------------------

/// Where registrations fall: UTC days weighted by growth, weekday and campaigns, then
/// UTC hours weighted by the home country's daily cycle.
#[derive(Debug, Clone)]
struct Calendar {
    /// First whole second (Unix time) that may be generated.
    first: i64,
    /// First whole second past the range.
    last: i64,
    /// UTC day number (days since 1970-01-01) of `first`.
    first_day: i64,
    /// One weight per UTC day from `first_day`.
    days: Weighted,
    /// Home offset from UTC in hours, per UTC day.
    offsets: Vec<i8>,
    /// Campaign days: local day number and volume multiplier, sorted by day.
    campaigns: Vec<(i64, f64)>,
}

impl Calendar {
    /// `None` when `[start, end)` holds no whole second.
    fn new(rng: &mut ChaCha8Rng, home: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Calendar> {
        let first = ceil_second(start);
        let last = ceil_second(end);
        if last <= first {
            return None;
        }
        let first_day = first.div_euclid(SECS_PER_DAY);
        let last_day = (last - 1).div_euclid(SECS_PER_DAY);
        let day_count = last_day - first_day + 1;

        let offsets: Vec<i8> = (first_day..=last_day)
            .map(|day| {
                let month = NaiveDate::from_num_days_from_ce_opt(unix_day_to_ce(day)).map_or(1, |d| d.month());
                i8::try_from(utc_offset_hours(home, month)).unwrap_or(0)
            })
            .collect();

        let mut campaigns = Vec::new();
        if day_count >= 14 {
            for _ in 0..(day_count / DAYS_PER_CAMPAIGN).max(1) {
                // Local day numbers; the UTC and local day differ by at most one.
                let day = rng.random_range(first_day..first_day + day_count);
                campaigns.push((day, rng.random_range(3.0..5.0)));
            }
            campaigns.sort_by_key(|c| c.0);
            campaigns.dedup_by_key(|c| c.0);
        }

        let mut calendar = Calendar { first, last, first_day, days: Weighted::new([]), offsets, campaigns };
        let years = day_count as f64 / 365.25;
        let growth = GROWTH_PER_YEAR * years.min(3.0);
        let span = (day_count - 1).max(1) as f64;
        let weights: Vec<f64> = (0..day_count)
            .map(|i| {
                let frac = i as f64 / span;
                let trend = 1.0 + growth * (0.5 * frac + 0.5 * frac * frac);
                trend * calendar.hour_weights(i).iter().sum::<f64>()
            })
            .collect();
        calendar.days = Weighted::new(weights);
        Some(calendar)
    }

    /// The multiplier of a local day: a campaign, or the day after one.
    fn campaign_factor(&self, local_day: i64) -> f64 {
        let find = |day: i64| {
            self.campaigns.binary_search_by_key(&day, |c| c.0).ok().and_then(|i| self.campaigns.get(i)).map(|c| c.1)
        };
        if let Some(m) = find(local_day) {
            m
        } else if let Some(m) = find(local_day - 1) {
            1.0 + (m - 1.0) * CAMPAIGN_TAIL
        } else {
            1.0
        }
    }

    /// The weight of each UTC hour of the `index`-th day, for the part of it in range.
    fn hour_weights(&self, index: i64) -> [f64; 24] {
        let day = self.first_day + index;
        let offset = usize::try_from(index).ok().and_then(|i| self.offsets.get(i)).map_or(0, |o| i64::from(*o));
        let mut weights = [0.0; 24];
        for (hour, weight) in (0_i64..).zip(weights.iter_mut()) {
            let (lo, hi) = self.hour_span(day, hour);
            if hi <= lo {
                continue;
            }
            let local = day * 24 + hour + offset;
            let local_day = local.div_euclid(24);
            let local_hour = usize::try_from(local.rem_euclid(24)).unwrap_or(0);
            let weekday = usize::try_from((local_day + 3).rem_euclid(7)).unwrap_or(0);
            let profile = if weekday >= 5 { &WEEKEND_HOURS } else { &WEEKDAY_HOURS };
            *weight =
                profile[local_hour] * WEEKDAY_FACTOR[weekday] * self.campaign_factor(local_day) * (hi - lo) as f64
                    / SECS_PER_HOUR as f64;
        }
        weights
    }

    /// The seconds of a UTC hour that are in range, as `[lo, hi)`.
    fn hour_span(&self, day: i64, hour: i64) -> (i64, i64) {
        let start = day * SECS_PER_DAY + hour * SECS_PER_HOUR;
        (start.max(self.first), (start + SECS_PER_HOUR).min(self.last))
    }

    /// A registration instant in whole seconds of Unix time.
    fn sample(&self, rng: &mut ChaCha8Rng) -> i64 {
        let index = self.days.sample(rng) as i64;
        let weights = self.hour_weights(index);
        let total: f64 = weights.iter().sum();
        let x = rng.random::<f64>() * total;
        let mut acc = 0.0;
        let mut chosen = None;
        for (hour, w) in (0_i64..).zip(weights) {
            if w <= 0.0 {
                continue;
            }
            chosen = Some(hour);
            acc += w;
            if x < acc {
                break;
            }
        }
        let day = self.first_day + index;
        let (lo, hi) = chosen.map_or((self.first, self.last), |h| self.hour_span(day, h));
        if hi <= lo {
            return self.first;
        }
        rng.random_range(lo..hi)
    }
}

/// The first whole second at or after `t`, in Unix time.
fn ceil_second(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// Days since 1970-01-01 to days since 0001-01-01 (day 1), as chrono counts them.
fn unix_day_to_ce(day: i64) -> i32 {
    i32::try_from(day + 719_163).unwrap_or(719_163)
}

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

/// An endless, deterministic stream of realistic [`UserDraft`]s registered in
/// `[start, end)`; see the [module documentation](self) for what they look like.
///
/// It keeps no user: memory is constant in the number generated (and proportional to
/// the number of days in the period).
#[derive(Debug, Clone)]
pub struct UserGenerator {
    rng: ChaCha8Rng,
    next_id: u64,
    /// Upper-case ISO code of the home country.
    home: &'static str,
    /// The home's state/city table (only Chile has one).
    home_regions: Option<RegionTable>,
    chile: RegionTable,
    foreign: Vec<&'static str>,
    foreign_weights: Weighted,
    /// Rank weights of each [`FOREIGN_PLACES`] list.
    foreign_places: Vec<Weighted>,
    calendar: Option<Calendar>,
    hispanic: Names,
    portuguese: Names,
    english: Names,
    main_ages: Weighted,
    minor_ages: Weighted,
    senior_ages: Weighted,
}

impl UserGenerator {
    /// A generator of users registered in `[start, end)`, most of them in `home`.
    ///
    /// `home` is an ISO 3166-1 alpha-2 code in any case; an unknown code falls back to
    /// `CL`. Chilean users get a region and commune; users of any other home get the
    /// country only. When `[start, end)` holds no whole second the generator is empty.
    pub fn new(seed: u64, home: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        let home = Country::parse(home).map_or(FALLBACK_HOME, Country::code);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let calendar = Calendar::new(&mut rng, home, start, end);

        let mut foreign: Vec<(&'static str, f64)> =
            FOREIGN_COUNTRIES.iter().copied().filter(|(code, _)| *code != home).collect();
        if home != "CL" {
            foreign.push(("CL", CL_AS_FOREIGN_WEIGHT));
        }

        let main_ages = Weighted::new((18..=65).map(main_age_weight));
        let minor_ages = Weighted::new([0.4, 0.6, 0.9, 1.2, 1.5]); // 13..=17
        let senior_ages = Weighted::new((66..=90).scan(1.0, |w, _| {
            let current = *w;
            *w *= 0.88;
            Some(current)
        }));

        UserGenerator {
            rng,
            next_id: 1,
            home,
            home_regions: (home == "CL").then(RegionTable::chile),
            chile: RegionTable::chile(),
            foreign_weights: Weighted::new(foreign.iter().map(|f| f.1)),
            foreign: foreign.into_iter().map(|f| f.0).collect(),
            foreign_places: FOREIGN_PLACES.iter().map(|p| Weighted::ranked(p.1.len())).collect(),
            calendar,
            hispanic: Names::of(Culture::Hispanic),
            portuguese: Names::of(Culture::Portuguese),
            english: Names::of(Culture::English),
            main_ages,
            minor_ages,
            senior_ages,
        }
    }

    fn gender(&mut self) -> Option<Gender> {
        let u = self.rng.random::<f64>();
        if u < SHARE_FEMALE {
            Some(Gender::Female)
        } else if u < SHARE_FEMALE + SHARE_MALE {
            Some(Gender::Male)
        } else if u < SHARE_FEMALE + SHARE_MALE + SHARE_OTHER {
            Some(Gender::Other)
        } else {
            None
        }
    }

    /// A birth date giving a plausible age on `registered` (the UTC date), or none.
    fn birth_date(&mut self, registered: NaiveDate) -> Option<NaiveDate> {
        let u = self.rng.random::<f64>();
        let age = if u < SHARE_NO_BIRTH_DATE {
            return None;
        } else if u < SHARE_NO_BIRTH_DATE + SHARE_UNDER_18 {
            13 + self.minor_ages.sample(&mut self.rng)
        } else if u < SHARE_NO_BIRTH_DATE + SHARE_UNDER_18 + SHARE_OVER_65 {
            66 + self.senior_ages.sample(&mut self.rng)
        } else {
            18 + self.main_ages.sample(&mut self.rng)
        };
        let age = i32::try_from(age).ok()?;
        // The birth dates with exactly `age` years on `registered` are those after the
        // anniversary `age + 1` years back, up to the one `age` years back.
        let latest = anniversary(registered, registered.year() - age)?;
        let before = anniversary(registered, registered.year() - age - 1)?;
        let span = (latest - before).num_days();
        if span <= 0 {
            return Some(latest);
        }
        latest.checked_sub_signed(Duration::days(self.rng.random_range(0..span)))
    }

    /// Country, state and city.
    fn place(&mut self) -> (Option<&'static str>, Option<&'static str>, Option<&'static str>) {
        let u = self.rng.random::<f64>();
        if u < SHARE_HOME {
            let Some(table) = &self.home_regions else {
                return (Some(self.home), None, None);
            };
            let (state, city) = table.pick(&mut self.rng);
            let v = self.rng.random::<f64>();
            if v < SHARE_HOME_NO_PLACE {
                (Some(self.home), None, None)
            } else if v < SHARE_HOME_NO_PLACE + SHARE_HOME_NO_CITY {
                (Some(self.home), Some(state), None)
            } else {
                (Some(self.home), Some(state), Some(city))
            }
        } else if u < SHARE_HOME + SHARE_FOREIGN {
            let i = self.foreign_weights.sample(&mut self.rng);
            let country = self.foreign.get(i).copied().unwrap_or("AR");
            let (state, city) = if country == "CL" {
                self.chile.pick(&mut self.rng)
            } else {
                let found = FOREIGN_PLACES.iter().position(|(code, _)| *code == country);
                let places = found.and_then(|p| FOREIGN_PLACES.get(p)).map_or(&[][..], |p| p.1);
                let pick = found.and_then(|p| self.foreign_places.get(p)).map_or(0, |w| w.sample(&mut self.rng));
                places.get(pick).copied().unwrap_or(("", ""))
            };
            let v = self.rng.random::<f64>();
            let state = (v < SHARE_FOREIGN_STATE_CITY).then_some(state);
            let city = (v < SHARE_FOREIGN_STATE_CITY + SHARE_FOREIGN_CITY).then_some(city);
            (Some(country), state.filter(|s| !s.is_empty()), city.filter(|c| !c.is_empty()))
        } else {
            (None, None, None)
        }
    }

    /// A full name fitting the gender, the generation and the country.
    fn name(&mut self, gender: Option<Gender>, birth_year: Option<i32>, country: &str) -> String {
        let rng = &mut self.rng;
        let culture = match country {
            "BR" => Culture::Portuguese,
            "US" if rng.random_bool(0.75) => Culture::English,
            _ => Culture::Hispanic,
        };
        let names = match culture {
            Culture::Hispanic => &self.hispanic,
            Culture::Portuguese => &self.portuguese,
            Culture::English => &self.english,
        };
        let female = match gender {
            Some(Gender::Female) => true,
            Some(Gender::Male) => false,
            _ => rng.random_bool(0.5),
        };
        let modern = match birth_year {
            Some(y) if y >= 2000 => 0.8,
            Some(y) if y >= 1990 => 0.5,
            Some(_) => 0.1,
            None => 0.35,
        };
        let list = match (female, rng.random_bool(modern)) {
            (true, true) => &names.female_new,
            (true, false) => &names.female_old,
            (false, true) => &names.male_new,
            (false, false) => &names.male_old,
        };
        let mut name = String::with_capacity(40);
        let first = list.pick(rng);
        name.push_str(first);
        let second_given = match culture {
            Culture::Portuguese => 0.15,
            Culture::Hispanic => 0.08,
            Culture::English => 0.0,
        };
        if rng.random_bool(second_given) {
            let second = list.pick(rng);
            if second != first && !second.contains(' ') && !first.contains(' ') {
                name.push(' ');
                name.push_str(second);
            }
        }
        name.push(' ');
        name.push_str(names.surnames.pick(rng));
        let two_surnames = match (culture, country) {
            (Culture::Hispanic, "CL" | "ES") => 0.55,
            (Culture::Hispanic, _) => 0.25,
            (Culture::Portuguese, _) => 0.35,
            (Culture::English, _) => 0.0,
        };
        if rng.random_bool(two_surnames) {
            name.push(' ');
            name.push_str(names.surnames.pick(rng));
        }
        name
    }
}

impl Iterator for UserGenerator {
    type Item = UserDraft;

    fn next(&mut self) -> Option<UserDraft> {
        let calendar = self.calendar.as_ref()?;
        let seconds = calendar.sample(&mut self.rng);
        let registered_at = DateTime::<Utc>::from_timestamp(seconds, 0)?;

        let gender = self.gender();
        let birth_date = self.birth_date(registered_at.date_naive());
        let (country, state, city) = self.place();
        let culture_country = country.unwrap_or(self.home);
        let name = self.name(gender, birth_date.map(|b| b.year()), culture_country);

        let mut gender = gender.map(|g| g.as_str().to_owned());
        let mut country = country.map(str::to_owned);
        let mut state = state.map(str::to_owned);
        let mut city = city.map(str::to_owned);
        if self.rng.random_bool(MESSY_GENDER_CASE) {
            gender = gender.map(|g| g.to_lowercase());
        }
        if country.is_some() && self.rng.random_bool(MESSY_COUNTRY_CASE) {
            country = country.map(|c| c.to_lowercase());
        }
        if (state.is_some() || city.is_some()) && self.rng.random_bool(MESSY_PLACE_SPACES) {
            let pad: fn(String) -> String = match self.rng.random_range(0..4) {
                0 => |s| format!(" {s}"),
                1 => |s| format!("{s} "),
                2 => |s| format!("  {s}  "),
                _ => |s| format!("{s}  "),
            };
            if city.is_some() && (state.is_none() || self.rng.random_bool(0.5)) {
                city = city.map(pad);
            } else {
                state = state.map(pad);
            }
        }

        let id = format!("u{:07}", self.next_id);
        self.next_id += 1;
        Some(UserDraft {
            id,
            name,
            gender,
            birth_date: birth_date.map(|b| b.format("%Y-%m-%d").to_string()),
            country,
            state,
            city,
            registered_at: registered_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.calendar.is_some() { (usize::MAX, None) } else { (0, Some(0)) }
    }
}

/// The relative number of users registering at `age` (18..=65): rising through the
/// early twenties, a broad peak at 25–40, then a slow decline.
fn main_age_weight(age: u32) -> f64 {
    let a = f64::from(age);
    match age {
        0..=24 => 0.45 + (a - 18.0) * 0.085,
        25..=40 => {
            let x = (a - 32.5) / 7.5;
            1.0 + 0.15 * (1.0 - x * x)
        }
        _ => (0.95 - (a - 41.0) * 0.033).max(0.05),
    }
}

/// `on`'s month and day in `year`; 28 February for a 29 February in a common year.
fn anniversary(on: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, on.month(), on.day()).or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
}

// ---------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------

/// Writes drafts as CSV with the header `id,name,gender,birthDate,country,state,city,
/// registeredAt`; a missing value is an empty cell.
pub fn write_csv<W: Write>(out: W, users: impl Iterator<Item = UserDraft>) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for u in users {
        writer.write_record([
            u.id.as_str(),
            u.name.as_str(),
            u.gender.as_deref().unwrap_or(""),
            u.birth_date.as_deref().unwrap_or(""),
            u.country.as_deref().unwrap_or(""),
            u.state.as_deref().unwrap_or(""),
            u.city.as_deref().unwrap_or(""),
            u.registered_at.as_str(),
        ])?;
    }
    writer.flush()
}

/// One NDJSON line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonUser<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    registered_at: &'a str,
}

/// Writes drafts as NDJSON: one object a line with the keys `id`, `name`, `gender`,
/// `birthDate`, `country`, `state`, `city` and `registeredAt`; a missing value is left out.
pub fn write_ndjson<W: Write>(out: W, users: impl Iterator<Item = UserDraft>) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    for u in users {
        let line = JsonUser {
            id: &u.id,
            name: &u.name,
            gender: u.gender.as_deref(),
            birth_date: u.birth_date.as_deref(),
            country: u.country.as_deref(),
            state: u.state.as_deref(),
            city: u.city.as_deref(),
            registered_at: &u.registered_at,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use chrono::{Timelike, Weekday};
    use ottstats_domain::user::RegisteredUser;

    use super::*;

    const N: usize = 20_000;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn period() -> (DateTime<Utc>, DateTime<Utc>) {
        (at("2024-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"))
    }

    fn users(seed: u64, home: &str, n: usize) -> Vec<UserDraft> {
        let (start, end) = period();
        UserGenerator::new(seed, home, start, end).take(n).collect()
    }

    fn share(count: usize, total: usize) -> f64 {
        count as f64 / total as f64
    }

    fn assert_share(what: &str, count: usize, total: usize, expected: f64, tolerance: f64) {
        let s = share(count, total);
        assert!((s - expected).abs() <= tolerance, "{what}: {s:.4}, expected {expected} ± {tolerance}");
    }

    fn registered(d: &UserDraft) -> DateTime<Utc> {
        at(&d.registered_at)
    }

    /// Chile's local time as the generator approximates it.
    fn chile_local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
        let offset = utc_offset_hours("CL", t.month());
        t.naive_utc() + Duration::hours(offset)
    }

    fn is_messy(d: &UserDraft) -> bool {
        let padded = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim() != s);
        d.gender.as_deref().is_some_and(|g| g != g.to_uppercase())
            || d.country.as_deref().is_some_and(|c| c != c.to_uppercase())
            || padded(&d.state)
            || padded(&d.city)
    }

    #[test]
    fn same_seed_gives_the_same_users_and_bytes() {
        let a = users(7, "CL", 5_000);
        let b = users(7, "CL", 5_000);
        assert_eq!(a, b);
        let (mut csv_a, mut csv_b) = (Vec::new(), Vec::new());
        write_csv(&mut csv_a, a.into_iter()).unwrap();
        write_csv(&mut csv_b, b.into_iter()).unwrap();
        assert_eq!(csv_a, csv_b);
        let (start, end) = period();
        let (mut json_a, mut json_b) = (Vec::new(), Vec::new());
        write_ndjson(&mut json_a, UserGenerator::new(7, "CL", start, end).take(2_000)).unwrap();
        write_ndjson(&mut json_b, UserGenerator::new(7, "CL", start, end).take(2_000)).unwrap();
        assert_eq!(json_a, json_b);
    }

    #[test]
    fn a_clone_continues_identically() {
        let (start, end) = period();
        let mut g = UserGenerator::new(3, "CL", start, end);
        g.by_ref().take(100).for_each(drop);
        let copy = g.clone();
        assert!(g.take(500).eq(copy.take(500)));
    }

    #[test]
    fn different_seeds_or_arguments_give_different_users() {
        let a = users(1, "CL", 1_000);
        let b = users(2, "CL", 1_000);
        let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert!(differing > 990, "only {differing} of 1000 differ");
        // Ids are sequence numbers, so they are the same whatever the seed.
        assert!(a.iter().zip(&b).all(|(x, y)| x.id == y.id));
        let (start, end) = period();
        let later: Vec<_> = UserGenerator::new(1, "CL", start + Duration::days(1), end).take(1_000).collect();
        assert_ne!(a, later);
    }

    #[test]
    fn every_draft_is_valid_and_registered_in_range() {
        let (start, end) = period();
        let drafts = users(11, "CL", N);
        let mut ids = HashSet::new();
        for (i, d) in drafts.iter().enumerate() {
            assert_eq!(d.id, format!("u{:07}", i + 1));
            assert!(ids.insert(d.id.clone()));
            let u = RegisteredUser::from_draft(d, end).unwrap_or_else(|e| panic!("{d:?}: {e:?}"));
            assert!(u.registered_at >= start && u.registered_at < end, "{d:?}");
            // RFC 3339 in UTC with whole seconds: 2025-03-04T21:15:07Z.
            assert_eq!(d.registered_at.len(), 20, "{}", d.registered_at);
            assert!(d.registered_at.ends_with('Z'));
            assert_eq!(u.registered_at.timestamp_subsec_nanos(), 0);
            assert_eq!(u.registered_at.to_rfc3339_opts(SecondsFormat::Secs, true), d.registered_at);
            if let Some(b) = u.birth_date {
                assert!(b <= u.registered_at.date_naive(), "{d:?}");
                assert!(u.age.is_some(), "{d:?}");
            }
            assert!(u.name.split(' ').count() >= 2, "{:?}", u.name);
            assert!(u.name.chars().count() <= 80);
            assert_eq!(u.name, d.name, "names are never padded");
            if u.city.is_some() && u.country.is_some_and(|c| c.code() == "CL") {
                assert!(u.state.is_some(), "a Chilean city always comes with its region");
            }
        }
    }

    #[test]
    fn gender_mix() {
        let drafts = users(12, "CL", N);
        let count = |g: Option<&str>| {
            drafts.iter().filter(|d| d.gender.as_deref().map(str::to_uppercase).as_deref() == g).count()
        };
        assert_share("FEMALE", count(Some("FEMALE")), N, 0.48, 0.015);
        assert_share("MALE", count(Some("MALE")), N, 0.47, 0.015);
        assert_share("OTHER", count(Some("OTHER")), N, 0.02, 0.005);
        assert_share("missing", count(None), N, 0.03, 0.006);
    }

    #[test]
    fn age_mix_is_realistic() {
        let drafts = users(13, "CL", N);
        let mut ages = BTreeMap::<u8, usize>::new();
        let (mut missing, mut leap_day) = (0, 0);
        let (_, end) = period();
        for d in &drafts {
            let u = RegisteredUser::from_draft(d, end).unwrap();
            match u.age {
                Some(a) => *ages.entry(a).or_default() += 1,
                None => missing += 1,
            }
            if u.birth_date.is_some_and(|b| b.month() == 2 && b.day() == 29) {
                leap_day += 1;
            }
        }
        let within = |lo: u8, hi: u8| ages.range(lo..=hi).map(|(_, n)| n).sum::<usize>();
        assert_share("missing", missing, N, 0.06, 0.008);
        assert_share("under 18", within(0, 17), N, 0.05, 0.008);
        assert_share("over 65", within(66, 120), N, 0.03, 0.006);
        assert_share("18-65", within(18, 65), N, 0.86, 0.015);
        assert!(within(0, 12) == 0 && within(91, 120) == 0, "{ages:?}");
        // Per year of age, 25–40 is the busiest band.
        let per_year = |lo: u8, hi: u8| within(lo, hi) as f64 / f64::from(hi - lo + 1);
        assert!(per_year(25, 40) > 1.2 * per_year(18, 24), "{ages:?}");
        assert!(per_year(25, 40) > 1.4 * per_year(41, 65), "{ages:?}");
        assert!(per_year(41, 65) > 3.0 * per_year(66, 90), "{ages:?}");
        assert!(leap_day > 0, "no 29 February birthday in {N} users");
    }

    #[test]
    fn geography_mix_for_chile() {
        let drafts = users(14, "CL", N);
        let country = |d: &UserDraft| d.country.as_deref().map(str::to_uppercase);
        let home: Vec<_> = drafts.iter().filter(|d| country(d).as_deref() == Some("CL")).collect();
        let foreign = drafts.iter().filter(|d| country(d).is_some_and(|c| c != "CL")).count();
        let none = drafts.iter().filter(|d| d.country.is_none()).count();
        assert_share("home", home.len(), N, 0.80, 0.015);
        assert_share("foreign", foreign, N, 0.15, 0.012);
        assert_share("no country", none, N, 0.05, 0.008);

        let trimmed = |s: &Option<String>| s.as_deref().map(str::trim).map(str::to_owned);
        let no_place = home.iter().filter(|d| d.state.is_none() && d.city.is_none()).count();
        let no_city = home.iter().filter(|d| d.state.is_some() && d.city.is_none()).count();
        assert_share("home without state and city", no_place, home.len(), 0.03, 0.006);
        assert_share("home without city", no_city, home.len(), 0.03, 0.006);

        let mut by_state = HashMap::<String, usize>::new();
        for d in &home {
            let Some(state) = trimmed(&d.state) else {
                continue;
            };
            let region = CL_REGIONS.iter().find(|r| r.name == state).unwrap_or_else(|| panic!("{state}"));
            if let Some(city) = trimmed(&d.city) {
                assert!(region.cities.iter().any(|c| c.0 == city), "{city} is not in {state}");
            }
            *by_state.entry(state).or_default() += 1;
        }
        assert_eq!(by_state.len(), CL_REGIONS.len(), "{by_state:?}");
        let top = by_state.iter().max_by_key(|(_, n)| **n).map(|(s, _)| s.as_str());
        assert_eq!(top, Some("Región Metropolitana de Santiago"));
        // Santiago's region holds about 40 % of Chileans.
        let rm = by_state.get("Región Metropolitana de Santiago").copied().unwrap_or(0);
        assert_share("RM", rm, by_state.values().sum(), 0.405, 0.02);

        let codes: HashSet<_> = FOREIGN_COUNTRIES.iter().map(|c| c.0).collect();
        for d in &drafts {
            if let Some(c) = country(d).filter(|c| c != "CL") {
                assert!(codes.contains(c.as_str()), "{c}");
            }
        }
        let foreign_with_place =
            drafts.iter().filter(|d| country(d).is_some_and(|c| c != "CL") && d.city.is_some()).count();
        assert_share("foreign with a city", foreign_with_place, foreign, 0.40, 0.04);
        assert!(drafts.iter().filter(|d| d.country.is_none()).all(|d| d.state.is_none() && d.city.is_none()));
    }

    #[test]
    fn other_homes_get_the_country_only_and_chile_abroad() {
        let drafts = users(15, " ar", N);
        let country = |d: &UserDraft| d.country.as_deref().map(str::to_uppercase);
        let home: Vec<_> = drafts.iter().filter(|d| country(d).as_deref() == Some("AR")).collect();
        assert_share("home", home.len(), N, 0.80, 0.015);
        assert!(home.iter().all(|d| d.state.is_none() && d.city.is_none()));
        let chile = drafts.iter().filter(|d| country(d).as_deref() == Some("CL")).count();
        assert!(chile > 0);
        let (_, end) = period();
        assert!(drafts.iter().all(|d| RegisteredUser::from_draft(d, end).is_ok()));
    }

    #[test]
    fn an_unknown_home_falls_back_to_chile() {
        let drafts = users(16, "XX", 2_000);
        let chilean = drafts.iter().filter(|d| d.country.as_deref() == Some("CL")).count();
        assert!(chilean > 1_500);
        assert!(drafts.iter().any(|d| d.state.is_some()));
    }

    #[test]
    fn messy_values_are_rare_but_present() {
        let drafts = users(17, "CL", N);
        let messy = drafts.iter().filter(|d| is_messy(d)).count();
        assert!(messy > 0);
        assert!(share(messy, N) < 0.02, "{messy} messy drafts");
        assert!(drafts.iter().any(|d| d.country.as_deref() == Some("cl")));
    }

    #[test]
    fn registrations_grow_peak_on_weekends_and_evenings_and_spike() {
        let (start, end) = period();
        let drafts = users(18, "CL", N);
        let mut per_day = BTreeMap::<chrono::NaiveDate, usize>::new();
        let mut per_hour = [0_usize; 24];
        let (mut weekend, mut weekday) = (0, 0);
        let (mut first_half, mut second_half) = (0, 0);
        let middle = start + (end - start) / 2;
        for d in &drafts {
            let t = registered(d);
            let local = chile_local(t);
            *per_day.entry(local.date()).or_default() += 1;
            per_hour[local.hour() as usize] += 1;
            match local.weekday() {
                Weekday::Sat | Weekday::Sun => weekend += 1,
                _ => weekday += 1,
            }
            if t < middle { first_half += 1 } else { second_half += 1 }
        }
        // Per day, weekends are busier (2 weekend days against 5 weekdays).
        assert!(weekend as f64 / 2.0 > 1.15 * weekday as f64 / 5.0, "{weekend} vs {weekday}");
        let evening: usize = per_hour[19..=22].iter().sum();
        let night: usize = per_hour[2..=5].iter().sum();
        assert!(evening > 5 * night, "{per_hour:?}");
        assert!(second_half as f64 > 1.3 * first_half as f64, "{first_half} vs {second_half}");
        // A few campaign days with several times the usual volume.
        let mut counts: Vec<usize> = per_day.values().copied().collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2] as f64;
        let spikes = counts.iter().filter(|c| **c as f64 >= 2.5 * median).count();
        assert!((3..=40).contains(&spikes), "{spikes} spike days, median {median}");
    }

    #[test]
    fn registrations_stay_within_odd_and_tiny_ranges() {
        let start = at("2025-05-05T10:30:00.250Z");
        let end = at("2025-05-05T10:30:03.250Z");
        let drafts: Vec<_> = UserGenerator::new(1, "CL", start, end).take(200).collect();
        assert_eq!(drafts.len(), 200);
        let seen: HashSet<_> = drafts.iter().map(|d| d.registered_at.as_str()).collect();
        let expected = HashSet::from(["2025-05-05T10:30:01Z", "2025-05-05T10:30:02Z", "2025-05-05T10:30:03Z"]);
        assert_eq!(seen, expected);

        let start = at("2025-12-31T23:00:00Z");
        let end = at("2026-01-02T01:00:00Z");
        for d in UserGenerator::new(2, "ES", start, end).take(2_000) {
            let t = registered(&d);
            assert!(t >= start && t < end, "{d:?}");
            assert!(RegisteredUser::from_draft(&d, end).is_ok());
        }
    }

    #[test]
    fn an_empty_range_gives_no_users() {
        let t = at("2025-01-01T00:00:00Z");
        assert_eq!(UserGenerator::new(1, "CL", t, t).next(), None);
        assert_eq!(UserGenerator::new(1, "CL", t, t - Duration::days(1)).next(), None);
        let g = UserGenerator::new(1, "CL", t + Duration::milliseconds(1), t + Duration::milliseconds(900));
        assert_eq!(g.size_hint(), (0, Some(0)));
        assert_eq!(g.count(), 0);
    }

    #[test]
    fn csv_round_trips_with_its_header() {
        let drafts = users(19, "CL", 3_000);
        let mut bytes = Vec::new();
        write_csv(&mut bytes, drafts.iter().cloned()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("id,name,gender,birthDate,country,state,city,registeredAt\n"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap(), &csv::StringRecord::from(CSV_HEADER.to_vec()));
        let cell = |r: &csv::StringRecord, i: usize| Some(r[i].to_owned()).filter(|s| !s.is_empty());
        let read: Vec<UserDraft> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.len(), 8);
                UserDraft {
                    id: r[0].to_owned(),
                    name: r[1].to_owned(),
                    gender: cell(&r, 2),
                    birth_date: cell(&r, 3),
                    country: cell(&r, 4),
                    state: cell(&r, 5),
                    city: cell(&r, 6),
                    registered_at: r[7].to_owned(),
                }
            })
            .collect();
        assert_eq!(read, drafts);
        // Padded places survive the round trip (the server trims them, not the file).
        assert!(read.iter().any(is_messy));
    }

    #[test]
    fn ndjson_round_trips_with_camel_case_keys() {
        let drafts = users(20, "CL", 3_000);
        let mut bytes = Vec::new();
        write_ndjson(&mut bytes, drafts.iter().cloned()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n'));
        let allowed: HashSet<&str> = CSV_HEADER.into_iter().collect();
        let mut keys_seen = HashSet::new();
        let mut read = Vec::new();
        for line in text.lines() {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
            for (k, v) in &object {
                assert!(allowed.contains(k.as_str()), "unexpected key {k}");
                assert!(v.is_string(), "{k} is {v}, not a string");
                keys_seen.insert(k.clone());
            }
            let get = |k: &str| object.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            read.push(UserDraft {
                id: get("id").unwrap(),
                name: get("name").unwrap(),
                gender: get("gender"),
                birth_date: get("birthDate"),
                country: get("country"),
                state: get("state"),
                city: get("city"),
                registered_at: get("registeredAt").unwrap(),
            });
        }
        assert_eq!(read, drafts);
        assert_eq!(keys_seen.len(), 8, "{keys_seen:?}");
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("{\"id\":\"u0000001\",\"name\":"), "{first}");
    }

    #[test]
    #[ignore = "timing: cargo test --release -- --ignored --nocapture"]
    fn one_million_users() {
        let (start, end) = period();
        let t = std::time::Instant::now();
        let n = UserGenerator::new(42, "CL", start, end).take(1_000_000).count();
        let generated = t.elapsed();
        let t = std::time::Instant::now();
        write_csv(io::sink(), UserGenerator::new(42, "CL", start, end).take(1_000_000)).unwrap();
        let csv = t.elapsed();
        let t = std::time::Instant::now();
        write_ndjson(io::sink(), UserGenerator::new(42, "CL", start, end).take(1_000_000)).unwrap();
        let ndjson = t.elapsed();
        assert_eq!(n, 1_000_000);
        println!("1,000,000 users: generate {generated:?}, + CSV {csv:?}, + NDJSON {ndjson:?}");
    }
}
