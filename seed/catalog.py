"""The demo network's fixed data: garages, skills, job types, symptoms, names."""

from scheduler.texts import N_

SKILLS = [
    ("maintenance", N_("Maintenance")), ("diagnostics", N_("Diagnostics")), ("electrical", N_("Electrical")),
    ("engine", N_("Engine")), ("tyres", N_("Tyres")), ("bodywork", N_("Bodywork")), ("high_voltage", N_("High-voltage")),
]

# id, name, address, city, lat, lon, lifts, technicians, load of the next two weeks
GARAGES = [
    ("lyon-07", "Lyon 7e Gerland", "62 avenue Tony Garnier", "Lyon", 45.7335, 4.8335, 7, 8, 0.97),
    ("lyon-03", "Lyon 3e Part-Dieu", "18 rue Paul Bert", "Lyon", 45.7597, 4.8490, 6, 7, 0.96),
    ("villeurbanne", "Villeurbanne Gratte-Ciel", "120 cours Émile Zola", "Villeurbanne", 45.7700, 4.8870, 6, 7, 0.95),
    ("lyon-09", "Lyon 9e Vaise", "35 rue de Bourgogne", "Lyon", 45.7740, 4.8050, 5, 6, 0.85),
    ("venissieux", "Vénissieux", "8 boulevard Ambroise Croizat", "Vénissieux", 45.6970, 4.8860, 6, 7, 0.80),
    ("bron", "Bron Parilly", "45 avenue Franklin Roosevelt", "Bron", 45.7380, 4.9130, 5, 6, 0.78),
    ("ecully", "Écully", "3 chemin de Charbonnières", "Écully", 45.7760, 4.7770, 4, 5, 0.55),
    ("caluire", "Caluire-et-Cuire", "14 avenue du Général de Gaulle", "Caluire-et-Cuire", 45.7950, 4.8460, 5, 6, 0.82),
    ("oullins", "Oullins", "70 Grande Rue", "Oullins", 45.7140, 4.8070, 5, 6, 0.75),
    ("vaulx", "Vaulx-en-Velin", "27 avenue Gabriel Péri", "Vaulx-en-Velin", 45.7780, 4.9210, 5, 6, 0.70),
    ("saint-priest", "Saint-Priest", "5 rue du Dauphiné", "Saint-Priest", 45.6960, 4.9440, 6, 7, 0.65),
    ("rillieux", "Rillieux-la-Pape", "2 avenue de l'Europe", "Rillieux-la-Pape", 45.8210, 4.8990, 5, 6, 0.60),
    ("givors", "Givors", "11 rue Roger Salengro", "Givors", 45.5900, 4.7690, 4, 5, 0.45),
    ("villefranche", "Villefranche-sur-Saône", "220 rue Nationale", "Villefranche-sur-Saône", 45.9890, 4.7190, 6, 7, 0.72),
]

# code, label, skill, minutes, lift
JOB_TYPES = [
    ("annual_service", N_("Annual service"), "maintenance", 90, True),
    ("oil_change", N_("Oil change"), "maintenance", 45, True),
    ("brake_inspection", N_("Brake inspection"), "maintenance", 60, True),
    ("brake_repair", N_("Brake repair"), "maintenance", 120, True),
    ("fault_diagnosis", N_("Fault diagnosis"), "diagnostics", 60, False),
    ("warning_light_check", N_("Warning light check"), "diagnostics", 45, False),
    ("electrical_repair", N_("Electrical repair"), "electrical", 120, True),
    ("engine_repair", N_("Engine repair"), "engine", 180, True),
    ("tyre_change", N_("Tyre change"), "tyres", 45, True),
    ("bodywork_repair", N_("Bodywork repair"), "bodywork", 240, False),
    ("hv_battery_check", N_("High-voltage battery check"), "high_voltage", 90, True),
]

# code, label, French label, urgency, job type
SYMPTOMS = [
    ("engine_fault_stop", "Engine fault warning: stop and go to the nearest garage",
     "Défaut moteur\u202f: arrêtez-vous et rendez-vous au garage le plus proche", "P1", "fault_diagnosis"),
    ("brakes_failing", "Brake pedal soft or brakes failing", "Pédale de frein molle ou freins défaillants", "P1", "brake_repair"),
    ("wont_start", "Car will not start (immobilised)", "La voiture ne démarre pas (immobilisée)", "P1", "fault_diagnosis"),
    ("hv_warning", "High-voltage system warning (electric or hybrid)", "Alerte système haute tension (électrique ou hybride)", "P1", "hv_battery_check"),
    ("brake_noise", "Brake noise or squeal", "Bruit ou grincement de freins", "P2", "brake_inspection"),
    ("warning_light", "Orange warning light on", "Voyant orange allumé", "P2", "warning_light_check"),
    ("puncture", "Slow puncture or damaged tyre", "Crevaison lente ou pneu endommagé", "P2", "tyre_change"),
    ("electrical_glitch", "Electrical glitch (windows, lights)", "Panne électrique (vitres, éclairage)", "P2", "electrical_repair"),
    ("annual_service", "Annual service due", "Révision annuelle à faire", "P3", "annual_service"),
    ("oil_change", "Oil change", "Vidange", "P3", "oil_change"),
    ("seasonal_tyres", "Seasonal tyre change", "Changement de pneus saisonnier", "P3", "tyre_change"),
    ("body_damage", "Bodywork damage, car drivable", "Carrosserie endommagée, voiture roulante", "P3", "bodywork_repair"),
]

FIRST_NAMES = ["Julien", "Sophie", "Karim", "Nathalie", "Thomas", "Camille", "Mehdi", "Laura", "Nicolas", "Inès",
               "Antoine", "Claire", "Yanis", "Émilie", "Hugo", "Sarah", "Mathieu", "Léa", "Romain", "Fatima",
               "Pierre", "Manon", "Alexandre", "Chloé", "Sébastien", "Amina", "Vincent", "Julie", "Olivier", "Lucie"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Girard", "Roux", "Fournier", "Morel", "Mercier",
              "Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand", "Gauthier", "Perrin", "Robin",
              "Benali", "Nguyen", "Lopez", "Faure", "Andre", "Rousseau", "Bonnet", "Lambert", "Fontaine", "Mathieu"]
CAR_MODELS = ["Peugeot 208", "Renault Clio", "Citroën C3", "Peugeot 3008", "Renault Mégane", "Dacia Sandero",
              "Renault Zoe", "Peugeot e-208", "Citroën C4", "Toyota Yaris Hybrid", "Volkswagen Golf", "Tesla Model 3"]

# What people typed: the network works in French.
OVERRIDE_REASONS = {
    "urgency_raise": ["Client bloqué avec ses enfants", "Le voyant est passé au rouge pendant l’appel",
                      "Véhicule indispensable pour des rendez-vous médicaux"],
    "urgency_lower": ["Le client confirme que la voiture roule normalement", "Le voyant s’est éteint au redémarrage"],
    "direct_line": ["P1 sans créneau dans l’objectif", "Le chef d’atelier peut regarder aujourd’hui",
                    "Immobilisé sur le périphérique"],
    "squeeze_in": ["Travail court, tient entre deux révisions", "Problème de sécurité, ne peut pas attendre"],
    "walk_in": ["Arrivé avec un voyant défaut moteur", "Arrivé avec un pneu à plat"],
    "manual_slot": ["Le client ne peut venir que tôt le matin", "Même créneau qu’un autre véhicule de la famille"],
    "overbook": ["Un deuxième technicien finit plus tôt", "Contrôle rapide pendant un long travail"],
    "drive_in": ["Client invité à venir tout de suite\u202f: immobilisé à proximité",
                 "Voyant allumé, garage à cinq minutes"],
    "rebook": ["Le client ne peut venir qu’en fin de semaine", "Rapproché du travail du client"],
}
