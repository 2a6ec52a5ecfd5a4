//! The catalogue: VOD medias (movies and series episodes) and live signals (TV channels),
//! and the generator's view of any catalogue (lengths, series order, popularity).

use ottstats_domain::activity_input::ContentDraft;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::clock::{MINUTE, SECOND};
use crate::weighted::Weighted;

/// VOD medias and live signals in [`catalogue`].
pub(super) const VOD_COUNT: usize = 60;
pub(super) const LIVE_COUNT: usize = 12;

/// Series in the catalogue, and their episodes each.
const SERIES_COUNT: usize = 5;
const EPISODES: std::ops::RangeInclusive<usize> = 4..=8;

/// What separates a series' name from the season and episode in a title:
/// `Marea Alta — T2 E5`.
const EPISODE_MARK: &str = " — T";

/// The ChaCha stream of the catalogue and of the popularity ranking (users take the
/// streams from 0).
const CATALOGUE_STREAM: u64 = u64::MAX;
const POPULARITY_STREAM: u64 = u64::MAX - 1;

const SERIES: [&str; 16] = [
    "Los Hijos del Puerto",
    "Valle Central",
    "La Última Frontera",
    "Código Austral",
    "Detectives de Valparaíso",
    "Tierra de Volcanes",
    "Cocina de Mercado",
    "El Faro",
    "Sombras en Atacama",
    "Liceo 21",
    "Crónicas del Sur",
    "Marea Alta",
    "Los Aprendices",
    "Patagonia Salvaje",
    "Noches de Bellavista",
    "La Hacienda",
];

const MOVIES: [&str; 42] = [
    "El Viaje de Clara",
    "Luz de Invierno",
    "La Casa de los Espejos",
    "Nadie Sabe Nada",
    "El Último Tren a Osorno",
    "Cordillera",
    "Hermanos de Sangre",
    "La Noche Más Larga",
    "Puerto Escondido",
    "El Jardín de Rosa",
    "Desierto Florido",
    "Operación Chiloé",
    "Amor en Tiempos de Wifi",
    "El Profesor",
    "Lluvia de Verano",
    "Rescate en los Andes",
    "La Reina del Barrio",
    "Memorias de un Cartero",
    "Fuego Cruzado",
    "Mi Abuela y Yo",
    "El Secreto del Glaciar",
    "Ciudad de Cristal",
    "Los Guardianes del Bosque",
    "Medianoche en Santiago",
    "Gol de Oro",
    "La Isla de los Piratas",
    "Doble Identidad",
    "El Camino de Vuelta",
    "Niebla",
    "La Carta",
    "Robots al Rescate",
    "Sin Retorno",
    "El Gran Golpe",
    "Tres Días en Valdivia",
    "Corazón Salvaje",
    "El Inventor",
    "La Voz del Mar",
    "Última Llamada",
    "Dragones de Papel",
    "El Testigo",
    "Viento Norte",
    "Bajo la Misma Luna",
];

const CHANNELS: [&str; 18] = [
    "Canal Andino",
    "Noticias Continuas",
    "Deportes Total",
    "Fútbol Plus",
    "Cine Clásico",
    "Kids Planeta",
    "Música Viva",
    "Canal Cultura",
    "Regional Sur",
    "Documentales HD",
    "Series Latinas",
    "Canal Cocina",
    "Viajes y Aventura",
    "Tele Norte",
    "Canal Economía",
    "Humor 24",
    "Novelas de Siempre",
    "Clima y Tránsito",
];

/// The catalogue: 60 VOD medias (`vod-0001`…, kind `VOD`: movies and the episodes of a
/// few series, `Marea Alta — T2 E5`, episodes of a series in order and adjacent) and 12
/// live signals (`live-01`…, kind `LIVE`, TV channels). The seed chooses the titles, the
/// series' seasons and episode counts, and the order.
pub fn catalogue(seed: u64) -> Vec<ContentDraft> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(CATALOGUE_STREAM);

    let mut series = SERIES.to_vec();
    shuffle(&mut rng, &mut series);
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for name in series.into_iter().take(SERIES_COUNT) {
        let season = rng.random_range(1..=3);
        let episodes = rng.random_range(EPISODES);
        blocks.push((1..=episodes).map(|e| format!("{name}{EPISODE_MARK}{season} E{e}")).collect());
    }
    let episodes: usize = blocks.iter().map(Vec::len).sum();
    let mut movies = MOVIES.to_vec();
    shuffle(&mut rng, &mut movies);
    blocks.extend(movies.into_iter().take(VOD_COUNT.saturating_sub(episodes)).map(|m| vec![m.to_owned()]));
    shuffle(&mut rng, &mut blocks);

    let vod = blocks.into_iter().flatten().enumerate().map(|(i, title)| ContentDraft {
        id: format!("vod-{:04}", i + 1),
        kind: "VOD".to_owned(),
        title,
    });
    let mut channels = CHANNELS.to_vec();
    shuffle(&mut rng, &mut channels);
    let live = channels.into_iter().take(LIVE_COUNT).enumerate().map(|(i, title)| ContentDraft {
        id: format!("live-{:02}", i + 1),
        kind: "LIVE".to_owned(),
        title: title.to_owned(),
    });
    vod.chain(live).collect()
}

/// Fisher–Yates, written out so the order does not depend on `rand`'s implementation.
fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.random_range(0..=i));
    }
}

/// One content as the generator sees it.
#[derive(Debug, Clone)]
pub(super) struct Media {
    pub(super) id: String,
    pub(super) live: bool,
    /// VOD: the running time in milliseconds (0 for LIVE).
    pub(super) length: i64,
    /// VOD: the first episode of its series (itself for a movie).
    pub(super) first: usize,
    /// VOD: the next episode of its series.
    pub(super) next: Option<usize>,
}

/// Any catalogue, ready for sessions: kinds, lengths, series order, popularity.
#[derive(Debug, Clone)]
pub(super) struct Library {
    media: Vec<Media>,
    vod: Vec<usize>,
    vod_popularity: Weighted,
    live: Vec<usize>,
    live_popularity: Weighted,
}

impl Library {
    /// A kind other than `LIVE` (in any case) is VOD. Running times come from a hash of
    /// the id (episodes 22–55 min, movies 80–150 min); episodes are told by the title's
    /// `" — T"` mark, and a series' episodes must be adjacent and in order. Popularity is
    /// Zipf-like over a ranking the seed shuffles.
    pub(super) fn new(seed: u64, contents: &[ContentDraft]) -> Library {
        let series_of = |c: &ContentDraft| c.title.split_once(EPISODE_MARK).map(|(name, _)| name.to_owned());
        let mut media: Vec<Media> = Vec::with_capacity(contents.len());
        for (i, c) in contents.iter().enumerate() {
            let live = c.kind.trim().eq_ignore_ascii_case("LIVE");
            let series = if live { None } else { series_of(c) };
            let h = fnv1a(c.id.as_bytes());
            let (lo, hi) = if series.is_some() { (22 * MINUTE, 55 * MINUTE) } else { (80 * MINUTE, 150 * MINUTE) };
            let length =
                if live { 0 } else { lo + SECOND * i64::try_from(h % ((hi - lo) / SECOND) as u64).unwrap_or(0) };
            let mut first = i;
            if let (Some(name), Some(prev)) = (&series, i.checked_sub(1)) {
                let same = contents.get(prev).is_some_and(|p| !p.kind.trim().eq_ignore_ascii_case("LIVE"))
                    && contents.get(prev).and_then(series_of).as_ref() == Some(name);
                if same {
                    first = media.get(prev).map_or(prev, |m| m.first);
                    if let Some(m) = media.get_mut(prev) {
                        m.next = Some(i);
                    }
                }
            }
            media.push(Media { id: c.id.clone(), live, length, first, next: None });
        }

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(POPULARITY_STREAM);
        let mut vod: Vec<usize> = (0..media.len()).filter(|&i| media.get(i).is_some_and(|m| !m.live)).collect();
        let mut live: Vec<usize> = (0..media.len()).filter(|&i| media.get(i).is_some_and(|m| m.live)).collect();
        shuffle(&mut rng, &mut vod);
        shuffle(&mut rng, &mut live);
        Library {
            vod_popularity: Weighted::zipf(vod.len()),
            live_popularity: Weighted::zipf(live.len()),
            media,
            vod,
            live,
        }
    }

    pub(super) fn get(&self, index: usize) -> Option<&Media> {
        self.media.get(index)
    }

    pub(super) fn has_vod(&self) -> bool {
        !self.vod.is_empty()
    }

    pub(super) fn has_live(&self) -> bool {
        !self.live.is_empty()
    }

    /// A VOD media by popularity (the library must have one).
    pub(super) fn pick_vod(&self, rng: &mut ChaCha8Rng) -> usize {
        self.vod.get(self.vod_popularity.sample(rng)).copied().unwrap_or(0)
    }

    /// A live signal by popularity (the library must have one).
    pub(super) fn pick_live(&self, rng: &mut ChaCha8Rng) -> usize {
        self.live.get(self.live_popularity.sample(rng)).copied().unwrap_or(0)
    }
}

/// 64-bit FNV-1a: a stable hash, the same on every platform and release.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
