"""Portuguese escalation rules: phrases that hand a conversation to the agent, and benign ones."""

from __future__ import annotations

from whatsapp_assistant.escalation.patterns import AMOUNT, RuleTable, any_of

_FALAR = r"falar (?:diretamente |directamente |pessoalmente |por telefone |ao telefone )?com"
_ARTICLE = r"(?:(?:o|a|um|uma|algum|alguma) )?"
# Who a customer may "falar com" without asking for the agent: "vou falar com a minha mulher".
# Articles are listed too so the optional article cannot be skipped to reach "o banco".
_NOT_A_PERSON_REQUEST = (
    r"(?!(?:o|a|os|as|um|uma|meu|minha|meus|minhas|nosso|nossa|seu|sua|teu|tua|voce|voces|vc|"
    r"vcs|ele|ela|eles|elas|banco|familia|marido|mulher|espos[oa]|namorad[oa]|soci[oa]|chefe|"
    r"pais|pai|mae|irmao|irma|advogad[oa]|contabilista|vizinh\w*)\b)"
)
_VARIAS = r"(?:\d+|duas|tres|quatro|varias|muitas|mil)"

TABLE = RuleTable(
    language="pt",
    rules={
        "human_request": (
            (
                "falar_com_pessoa",
                rf"{_FALAR} {_ARTICLE}(?:pessoa|humano|agente|alguem|consultor\w*|responsavel|"
                r"gerente|proprietari[oa]|dono|dona|comercial|atendente|operador\w*|senhorio)",
            ),
            ("falar_com_nome", rf"{_FALAR} {_ARTICLE}{_NOT_A_PERSON_REQUEST}[a-z]+"),
            (
                "pessoa_real",
                any_of(
                    r"pessoa (?:real|de verdade|humana)|(?:um|com) humano",
                    r"(?:agente|atendimento|atendente) humano|atendente real",
                    r"(?:falar|conversar) (?:por|ao) telefone",
                ),
            ),
            (
                "ligue_me",
                any_of(
                    r"(?:ligue|liga|ligar|ligam|telefone|telefonem)[- ]me",
                    r"me (?:liga|ligue|liguem|ligar|ligarem|ligam|telefona|telefone)",
                    r"(?:pode|podes|podem|poderia|poderiam|consegue|conseguem) (?:me )?"
                    r"(?:ligar|telefonar)(?:-me)?",
                    r"(?:prefiro|quero|queria|gostaria de|gostava de) (?:uma )?chamada",
                    r"(?:posso|poderia) (?:lhe |te )?(?:ligar|telefonar)(?:-lhe|-te)?",
                    r"me (?:contactar|contatar|contacte|contate|contactem|contatem)",
                    r"(?:contacte|contate|contactem|contatem)-me",
                ),
            ),
            (
                "contacto",
                r"(?:o seu|o teu|seu|teu) (?:numero|contacto|contato|telefone|telemovel|celular)",
            ),
            ("sem_bot", r"nao quero (?:falar com )?(?:um |uma |o |a )?(?:bot|robo|maquina|ia)"),
        ),
        "objection": (
            ("reclamacao", r"reclama\w*|queix\w*|livro (?:de|das) reclamacoes"),
            (
                "mau_servico",
                any_of(
                    r"(?:pessim[oa]|horrivel|terrivel|mau|ma|fraco|vergonhoso|lamentavel) "
                    r"(?:atendimento|servico|agencia|experiencia|trato)",
                    r"(?:atendimento|servico) "
                    r"(?:pessimo|horrivel|terrivel|vergonhoso|lamentavel|muito mau)",
                    r"(?:ma|pessima|negativa) (?:avaliacao|critica)|avaliacao negativa",
                ),
            ),
            (
                "indignacao",
                any_of(
                    r"vergonhoso|(?:que|uma|e uma|isto e uma) vergonha",
                    r"inaceitavel|ridicul[oa]|palhacada|absurdo|burla",
                    r"falta de respeito|desrespeito|pouco profissional|nao e serio",
                ),
            ),
            (
                "ninguem_responde",
                any_of(
                    r"ninguem (?:me |nos )?"
                    r"(?:respond|atend|lig|diz|disse|deu|da|aparec|veio|vem|avis|inform)\w*",
                    r"nunca (?:me |nos )?(?:respondem|responderam|atendem|ligam|ligaram)",
                    r"nao (?:me |nos )?(?:respondem|atendem|ligam) nunca",
                    r"nunca mais (?:\w+ ){0,2}(?:convosco|com voces|com esta agencia)",
                    r"ate agora nada",
                ),
            ),
            (
                "a_espera",
                any_of(
                    r"(?:ha|a) (?:\w+ ){0,2}(?:dias|semanas) (?:que )?"
                    r"(?:(?:estou )?a espera|sem resposta|esperando)",
                    r"sem resposta|continuo (?:sem|a espera)",
                    rf"(?:escrevi|liguei|perguntei|mandei|enviei)\w* {_VARIAS} vezes",
                ),
            ),
            (
                "farto",
                any_of(
                    r"(?:estou|estamos|to|tou) (?:fart|cansad)[oa]s? de|perda de tempo",
                    r"(?:desiludid|decepcionad|chatead|insatisfeit|revoltad|indignad)[oa]s?",
                ),
            ),
        ),
        "negotiation": (
            (
                "fazem_por",
                any_of(
                    r"(?:fazem|faz|fazes|faria|fariam|fazia|faziam|deixam|deixa|deixariam|"
                    rf"deixavam)(?:-me| me)? (?:isso |o |a |ele |ela )?(?:por|a) {AMOUNT}",
                    rf"(?:conseguem|consegue|podem|pode|podiam|poderiam) fazer {AMOUNT}",
                    rf"se (?:fizerem|fizer|fizessem|deixarem|baixarem) (?:por |a )?{AMOUNT}",
                ),
            ),
            (
                "aceitam",
                any_of(
                    rf"aceit\w* (?:o valor de |a |uma oferta de |uma proposta de )?{AMOUNT}",
                    rf"se (?:eu |nos )?(?:der|dermos|oferecer|oferecermos|pagar|pagarmos) {AMOUNT}",
                    rf"vend(?:em|e|eriam|iam|ia)(?:-me| me)? (?:por|a) {AMOUNT}",
                ),
            ),
            (
                "proposta",
                any_of(
                    r"(?:fazer|faco|fazemos|faria|fariamos|apresentar|apresento|enviar|envio|"
                    r"mandar|deixar|deixo) (?:uma |a minha |a nossa )?"
                    r"(?:contra)?(?:proposta|oferta)",
                    r"(?:minha|nossa) (?:contra)?(?:proposta|oferta)|contra.?proposta\w*",
                    r"(?:proposta|oferta) (?:mais baixa|inferior|abaixo)",
                    rf"(?:proposta|oferta) (?:de|final|firme)(?: de)? {AMOUNT}",
                    rf"(?:oferec\w*|propo(?:nho|mos|ria)) {AMOUNT}",
                    r"abaixo do (?:preco|valor)",
                ),
            ),
            ("desconto", r"descontos?"),
            (
                "baixar_preco",
                any_of(
                    r"(?:baixar|baixam|baixa|descer|descem|desce|reduzir|reduzem)\w* "
                    r"(?:o preco|o valor|a renda|um pouco|para)",
                    r"baixarem|baixariam|baixassem",
                    r"baix(?:am|ar|arem|ariam|assem|em|ava|avam|ando)\w*(?: para| em| uns)? "
                    rf"{AMOUNT}|baixa (?:para|em) {AMOUNT}",
                    r"(?:melhor|ultimo) (?:preco|valor)|(?:preco|valor) final",
                    rf"margem (?:para|de) \w+ (?:a |os |aos |por )?{AMOUNT}",
                ),
            ),
            ("negociar", r"(?:quero|queria|podemos|vamos|gostaria de|gostava de) negociar"),
            (
                "pagaria",
                any_of(
                    rf"(?:daria\w*|pagaria\w*) {AMOUNT}",
                    rf"(?:dou|damos|pago|pagamos) {AMOUNT} (?:por|pel[oa]|e fechamos|e fica)",
                    rf"fic(?:o|amos|aria|ariamos) com \w+ (?:por|a) {AMOUNT}",
                    rf"por {AMOUNT} (?:\w+ )?"
                    r"(?:fico|ficamos|compro|compramos|arrendo|fecho|fechamos)",
                    r"fech\w* (?:o )?negocio",
                ),
            ),
        ),
        "legal": (
            ("advogado", r"advogad\w*|solicitador\w*|notari\w*|cartorio|procuracao|licencas?"),
            ("contrato", r"contratos?|cpcv|clausula\w*"),
            (
                "escritura",
                any_of(
                    r"escritura\w*|registo predial|certidao permanente|heranca|onus|penhora\w*",
                    r"(?:tem|ha|existe\w*|com|sem|livre de) (?:alguma\w* )?dividas?",
                    r"dividas? (?:de|ao|do|a) condominio|dividas? (?:ou|e) penhoras?",
                ),
            ),
            (
                "impostos_compra",
                any_of(
                    r"imt|imposto (?:d[eo] )?selo|mais.?valias",
                    r"imposto municipal sobre (?:as )?transmissoes",
                    r"(?:que|quais|quantos) impostos",
                    r"impostos (?:na|de|da|para a) (?:compra|escritura|aquisicao)",
                    r"(?:custos|despesas|gastos) (?:\w+ ){0,2}(?:da |de )?(?:compra|escritura)",
                ),
            ),
            ("e_legal", r"(?:i)?legal\w*"),
        ),
        "financing": (
            (
                "credito",
                any_of(
                    r"credito(?: a)? habitac\w*",
                    r"credito (?:bancario|imobiliario|hipotecario)",
                    r"(?:simulacao|simular) (?:de |o )?credito|intermediari[oa]s? de credito",
                ),
            ),
            ("financiamento", r"financia\w*|emprest\w*|hipotec\w*|creditos?"),
            (
                "banco",
                any_of(
                    r"banco (?:empresta|financia|da|aprova)\w*",
                    r"spread|prestac(?:ao|oes)|euribor|taxas? de juros?|pre.?aprovac\w*",
                ),
            ),
        ),
    },
    benign=(
        (
            "preco_negociavel",
            any_of(
                r"(?:o )?preco (?:e |esta )?negociavel|negociave(?:l|is)",
                r"margem (?:de|para) (?:negociacao|negociar)",
                r"abert[oa]s? a (?:negociacao|propostas|ofertas)|aceitam propostas",
                r"(?:da|e possivel) (?:para )?negociar",
            ),
        ),
        (
            "duracao_contrato",
            any_of(
                r"(?:prazo|duracao|periodo|estadia) minim[oa]"
                r"(?: (?:do|de) (?:contrato|arrendamento))?",
                r"contrato minimo|(?:duracao|prazo) (?:do|de) contrato",
                r"contrato (?:e |tem )?(?:de |por )?(?:quantos|quanto tempo)(?: anos| meses)?",
                r"contrato (?:de|por) (?:\d+|um|uma|dois|tres|seis|doze) (?:anos?|meses|mes)",
            ),
        ),
        (
            "contrato_proprio",
            any_of(
                r"contrato (?:de trabalho|sem termo|a termo|efetivo)",
                r"(?:o )?(?:meu|nosso) contrato(?: de \w+)? (?:termina|acaba)",
            ),
        ),
        ("nao_ligar", r"nao (?:me |nos )?(?:ligue|liguem|ligar|telefone|telefonem)"),
        ("cartao", r"cartao de credito"),
        ("imi", r"imi|(?:valor|quota|despesas|taxa) (?:do |de )?condominio"),
    ),
)
