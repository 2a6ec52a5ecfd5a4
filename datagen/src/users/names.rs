//! Person names: first names (in fashion now and before) and surnames of each culture,
//! and the picking of a full name that fits the gender, the generation and the country.

use ottstats_domain::gender::Gender;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::weighted::Weighted;

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

/// The names of every culture.
#[derive(Debug, Clone)]
pub(super) struct NameBook {
    hispanic: Names,
    portuguese: Names,
    english: Names,
}

impl NameBook {
    pub(super) fn new() -> NameBook {
        NameBook {
            hispanic: Names::of(Culture::Hispanic),
            portuguese: Names::of(Culture::Portuguese),
            english: Names::of(Culture::English),
        }
    }

    /// A full name fitting the gender, the generation and the country.
    pub(super) fn pick(
        &self,
        rng: &mut ChaCha8Rng,
        gender: Option<Gender>,
        birth_year: Option<i32>,
        country: &str,
    ) -> String {
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
