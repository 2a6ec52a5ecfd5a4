//! Where users are: Chile's regions and communes weighted by population, the countries
//! users register from when abroad with a few of their places, and the picking of a
//! country, state and city.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::weighted::Weighted;

/// Users in the home country and abroad (the rest have no country).
const SHARE_HOME: f64 = 0.80;
const SHARE_FOREIGN: f64 = 0.15;

/// Home users (with a regional table) without state and city, and with state only.
const SHARE_HOME_NO_PLACE: f64 = 0.03;
const SHARE_HOME_NO_CITY: f64 = 0.03;

/// Foreign users with a city only, and with state and city (the rest have neither).
const SHARE_FOREIGN_CITY: f64 = 0.30;
const SHARE_FOREIGN_STATE_CITY: f64 = 0.10;

pub(super) struct Region {
    pub(super) name: &'static str,
    /// Thousands of inhabitants (2017 census).
    population: f64,
    /// Main communes, with thousands of inhabitants (2017 census).
    pub(super) cities: &'static [(&'static str, f64)],
}

/// Chile's sixteen regions, north to south.
pub(super) const CL_REGIONS: &[Region] = &[
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
pub(super) const FOREIGN_COUNTRIES: &[(&str, f64)] = &[
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

/// The place tables of one home country.
#[derive(Debug, Clone)]
pub(super) struct Places {
    /// Upper-case ISO code of the home country.
    home: &'static str,
    /// The home's state/city table (only Chile has one).
    home_regions: Option<RegionTable>,
    chile: RegionTable,
    foreign: Vec<&'static str>,
    foreign_weights: Weighted,
    /// Rank weights of each [`FOREIGN_PLACES`] list.
    foreign_places: Vec<Weighted>,
}

impl Places {
    /// The tables for `home`, an upper-case ISO code.
    pub(super) fn new(home: &'static str) -> Places {
        let mut foreign: Vec<(&'static str, f64)> =
            FOREIGN_COUNTRIES.iter().copied().filter(|(code, _)| *code != home).collect();
        if home != "CL" {
            foreign.push(("CL", CL_AS_FOREIGN_WEIGHT));
        }
        Places {
            home,
            home_regions: (home == "CL").then(RegionTable::chile),
            chile: RegionTable::chile(),
            foreign_weights: Weighted::new(foreign.iter().map(|f| f.1)),
            foreign: foreign.into_iter().map(|f| f.0).collect(),
            foreign_places: FOREIGN_PLACES.iter().map(|p| Weighted::ranked(p.1.len())).collect(),
        }
    }

    /// Country, state and city.
    pub(super) fn pick(
        &self,
        rng: &mut ChaCha8Rng,
    ) -> (Option<&'static str>, Option<&'static str>, Option<&'static str>) {
        let u = rng.random::<f64>();
        if u < SHARE_HOME {
            let Some(table) = &self.home_regions else {
                return (Some(self.home), None, None);
            };
            let (state, city) = table.pick(rng);
            let v = rng.random::<f64>();
            if v < SHARE_HOME_NO_PLACE {
                (Some(self.home), None, None)
            } else if v < SHARE_HOME_NO_PLACE + SHARE_HOME_NO_CITY {
                (Some(self.home), Some(state), None)
            } else {
                (Some(self.home), Some(state), Some(city))
            }
        } else if u < SHARE_HOME + SHARE_FOREIGN {
            let i = self.foreign_weights.sample(rng);
            let country = self.foreign.get(i).copied().unwrap_or("AR");
            let (state, city) = if country == "CL" {
                self.chile.pick(rng)
            } else {
                let found = FOREIGN_PLACES.iter().position(|(code, _)| *code == country);
                let places = found.and_then(|p| FOREIGN_PLACES.get(p)).map_or(&[][..], |p| p.1);
                let pick = found.and_then(|p| self.foreign_places.get(p)).map_or(0, |w| w.sample(rng));
                places.get(pick).copied().unwrap_or(("", ""))
            };
            let v = rng.random::<f64>();
            let state = (v < SHARE_FOREIGN_STATE_CITY).then_some(state);
            let city = (v < SHARE_FOREIGN_STATE_CITY + SHARE_FOREIGN_CITY).then_some(city);
            (Some(country), state.filter(|s| !s.is_empty()), city.filter(|c| !c.is_empty()))
        } else {
            (None, None, None)
        }
    }
}
