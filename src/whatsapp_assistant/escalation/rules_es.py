"""Spanish escalation rules: the phrases that hand a conversation to the agent, and benign ones."""

from __future__ import annotations

from whatsapp_assistant.escalation.patterns import AMOUNT, RuleTable, any_of

_HABLAR = r"hablar (?:directamente |personalmente |por telefono )?con"
_ARTICLE = r"(?:(?:el|la|los|las|un|una|algun|alguna) )?"
# Who a customer may "hablar con" without asking for the agent: "tengo que hablar con mi marido".
# Articles are listed too so the optional article cannot be skipped to reach "el banco".
_NOT_A_PERSON_REQUEST = (
    r"(?!(?:mi|mis|su|sus|tu|tus|nuestr[oa]s?|vosotr[oa]s|ustedes|usted|ti|el|ella|ellos|ellas|"
    r"la|los|las|un|una|banco|familia|marido|mujer|espos[oa]|pareja|novi[oa]|soci[oa]|jefe|"
    r"padres?|madre|herman[oa]s?|abogad[oa]|gestor\w*)\b)"
)
_VARIAS = r"(?:\d+|dos|tres|cuatro|varias|muchas|mil)"

TABLE = RuleTable(
    language="es",
    rules={
        "human_request": (
            (
                "hablar_con_persona",
                rf"{_HABLAR} {_ARTICLE}(?:persona|humano|agente|alguien|asesor\w*|responsable|"
                r"encargad[oa]|propietari[oa]|duen[oa]|comercial|gerente)",
            ),
            ("hablar_con_nombre", rf"{_HABLAR} {_ARTICLE}{_NOT_A_PERSON_REQUEST}[a-z]+"),
            (
                "persona_real",
                any_of(
                    r"persona (?:real|de verdad|humana)|agente humano|(?:un|con) humano",
                    r"atencion humana|hablar por telefono",
                    r"(?:me )?atiend\w* (?:un[ao]? )?(?:persona|alguien|humano|agente)",
                ),
            ),
            (
                "llamame",
                any_of(
                    r"llamame|llameme|llamenme|llamadme|me (?:llame|llamen)",
                    r"me (?:puedes|puede|pueden|podrias|podria|podeis) llamar",
                    r"(?:puedes|puede|pueden|podrias|podria|podeis) llamarme",
                    r"me (?:llamas|llamais|llamaras|llamarias)",
                    r"(?:prefiero|quiero|quisiera|me gustaria) (?:una )?llamada",
                    r"(?:puedo|podria) llamar(?:te|le|les|os)",
                    r"(?:contactarme|contactenme|me contact\w*) por telefono",
                ),
            ),
            (
                "pasame_con",
                r"me (?:pasas|pasa|pasais|pasan|pones|pone|poneis|ponen) con|"
                r"(?:ponme|pasame|poneme) con",
            ),
            ("telefono", r"(?:tu|su) (?:numero de )?(?:telefono|movil)"),
            ("no_bot", r"no quiero (?:hablar con )?(?:un |una |el |la )?(?:bot|robot|maquina|ia)"),
        ),
        "objection": (
            ("queja", r"quej\w*|reclamacion\w*|reclamar|hoja de reclamaciones"),
            (
                "mal_servicio",
                any_of(
                    r"(?:pesim[oa]|malisim[oa]|horrible|terrible|fatal|mal|mala) "
                    r"(?:servicio|atencion|trato|agencia|experiencia)",
                    r"(?:servicio|atencion|trato) "
                    r"(?:pesimo|malisimo|horrible|terrible|fatal|lamentable|vergonzoso)",
                    r"mala resena|resena negativa",
                ),
            ),
            (
                "indignacion",
                any_of(
                    r"vergonzoso|(?:que|una|es una|menuda|vaya) verguenza",
                    r"inaceptable|ridicul[oa]|indignante|estafa\w*",
                    r"desastre|absurdo|tomadura de pelo",
                    r"falta de (?:respeto|seriedad|profesionalidad)|poco (?:profesional|seri[oa])",
                ),
            ),
            (
                "nadie_responde",
                any_of(
                    r"nadie (?:me |nos )?(?:ha |han )?"
                    r"(?:respond|contest|llam|atend|dic|dij|avis|inform)\w*",
                    r"no (?:me |nos )?(?:contestan|responden|contestais|respondeis) nunca",
                    r"nunca (?:me |nos )?(?:contestan|responden|contestais|respondeis)",
                    r"nunca mas (?:\w+ ){0,2}con (?:vosotros|ustedes|esta agencia)",
                    r"hasta ahora nada",
                ),
            ),
            (
                "esperando",
                any_of(
                    r"(?:llevo|llevamos) (?:\w+ ){0,2}(?:dias|semanas|horas) esperando",
                    r"sin respuesta|sigo sin noticias",
                    rf"(?:escrito|llamado|preguntado|mandado|escribo) {_VARIAS} veces",
                ),
            ),
            (
                "harto",
                any_of(
                    r"(?:estoy|estamos|me siento) (?:muy |bastante |super )?"
                    r"(?:molest|enfadad|cabread|decepcionad|indignad|hart|insatisfech)[oa]s?",
                    r"(?:cansad|hart)[oa]s? de|perdida de tiempo",
                ),
            ),
        ),
        "negotiation": (
            (
                "aceptarian",
                r"(?:acepta\w*|tomaria\w*|dej\w*|quedaria\w*|vend(?:en|eis|erian|eriais|e)) "
                rf"(?:lo |la |en |por |un |una |oferta de )*{AMOUNT}",
            ),
            (
                "oferta",
                any_of(
                    r"(?:mi|nuestra) (?:ultima |maxima )?oferta",
                    r"oferta (?:mas baja|inferior|por debajo)",
                    r"(?:hacer|hago|hacemos|haria|hariamos|presentar|presento|mandar|mando) "
                    r"(?:una |la |mi )?oferta",
                    r"contra ?oferta\w*",
                    rf"oferta (?:de|final|en firme)(?: de)? {AMOUNT}",
                ),
            ),
            (
                "ofrezco",
                any_of(
                    rf"(?:ofrezco|ofrec\w*) {AMOUNT}",
                    rf"si (?:le |les |te )?(?:doy|damos|ofrezco|ofrecemos|pago|pagamos) {AMOUNT}",
                    rf"propon(?:go|emos|dria|driamos) {AMOUNT}",
                ),
            ),
            (
                "descuento",
                any_of(
                    r"descuentos?|rebaj\w*|regatear",
                    r"hacer algo con el precio|(?:mejorar|ajustar|mover) (?:un poco )?el precio",
                    rf"margen (?:para|de) \w+ (?:a |en |por )?{AMOUNT}",
                ),
            ),
            (
                "bajar_precio",
                any_of(
                    r"bajar\w* (?:el precio|un poco|algo|el alquiler)|bajari\w*",
                    r"baj(?:an|ais|arian|ariais|aria|ar|arlo|arla|amos|e|en) "
                    rf"(?:hasta |a |en )?{AMOUNT}",
                    r"(?:mejor|ultimo|minimo) precio|precio (?:final|minimo)",
                    r"lo (?:minimo|menos) que (?:acepta|pid|dejari)\w*",
                ),
            ),
            (
                "negociar",
                r"(?:quiero|quisiera|queremos|podemos|podriamos|vamos a|me gustaria) negociar",
            ),
            (
                "pagaria",
                any_of(
                    rf"(?:pagaria\w*|daria\w*) {AMOUNT}",
                    rf"(?:doy|damos|pago|pagamos) {AMOUNT} "
                    r"(?:por (?:el|la|este|esta|ese|esa)|y (?:lo|la) (?:cerramos|compro|alquilo))",
                    rf"por {AMOUNT} (?:lo |la |me lo |me la )?"
                    r"(?:compro|compramos|alquilo|alquilamos|cierro|cerramos|quedo)",
                    rf"(?:me lo |me la )?qued(?:o|amos|aria|ariamos) (?:con \w+ )?por {AMOUNT}",
                ),
            ),
        ),
        "legal": (
            (
                "abogado",
                r"abogad\w*|notari\w*|gestoria|asesor\w* (?:legal|juridic\w*|fiscal)|licencias?",
            ),
            ("contrato", r"contratos?|arras|clausula\w*|compraventa"),
            (
                "escritura",
                any_of(
                    r"escritura\w*|registro de la propiedad|nota simple|poder notarial|embargo\w*",
                    r"(?:tiene|tienen|hay|con|sin|libre de) (?:alguna |algun )?(?:cargas?|deudas?)",
                    r"cargas o deudas|deudas? (?:pendientes?|de (?:la )?(?:comunidad|ibi))",
                ),
            ),
            (
                "impuestos_compra",
                any_of(
                    r"itp|ajd|imt|plusvalia",
                    r"gastos (?:\w+ ){0,2}(?:la )?(?:compra|compraventa|escritura|notaria)",
                    r"impuestos? (?:de |sobre )?(?:transmisiones|actos juridicos)",
                    r"(?:que|cuantos|cuales) impuestos",
                    r"impuestos (?:de compra|al comprar|hay que pagar|tengo que pagar|pagaria)",
                ),
            ),
            ("es_legal", r"(?:il)?legal\w*"),
        ),
        "financing": (
            ("hipoteca", r"hipotec\w*"),
            ("prestamo", r"prestamos?|financia\w*|creditos?"),
            (
                "banco",
                any_of(
                    r"(?:que|algun|con) banco",
                    r"bancos? (?:que )?(?:presta|financia|da|dan|conceden)\w*",
                    r"tipo de interes|euribor|preaprobaci\w*",
                ),
            ),
        ),
    },
    benign=(
        (
            "precio_negociable",
            any_of(
                r"(?:el )?precio (?:es )?negociable|negociable|se puede negociar",
                r"margen (?:de|para) (?:negociacion|negociar)",
                r"abiert[oa]s? a (?:negociar|ofertas)|(?:aceptan|admiten) ofertas",
            ),
        ),
        (
            "duracion_contrato",
            any_of(
                r"(?:duracion|plazo|estancia|contrato|alquiler) minim[oa]"
                r"(?: del? (?:contrato|alquiler))?",
                r"minimo de (?:estancia|meses|contrato|alquiler)",
                r"(?:duracion|plazo|cuanto dura) (?:minim[oa] )?(?:del|el) contrato",
                r"contrato (?:de|por) (?:\d+|un|una|dos|tres|seis|doce) (?:anos?|meses|mes)",
            ),
        ),
        (
            "contrato_propio",
            any_of(
                r"contrato (?:de trabajo|laboral|indefinido|fijo|temporal)",
                r"(?:mi|nuestro) contrato(?: de \w+)? (?:termina|acaba|vence|finaliza)",
            ),
        ),
        ("no_llamar", r"no (?:me |nos )?llam(?:es|en|eis|e)"),
        ("tarjeta", r"tarjetas? de credito"),
        ("ibi", r"ibi|(?:gastos|cuota) de (?:la )?comunidad"),
    ),
)
