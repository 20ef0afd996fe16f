// Code generated from DICOM PS3.15 (2025a) Table E.1-1, the Application Level
// Confidentiality Profile Attributes; DO NOT EDIT by hand: update it from the
// standard's table. Each entry gives the Basic Profile action and whether the
// Retain Longitudinal Temporal Information with Modified Dates option and the
// Retain Device Identity option apply to the attribute.

package share

import "teleread/viewer/dataset"

// basicProfile maps each attribute Table E.1-1 lists by exact tag to its rule.
// Repeating-group entries (curves 50xx, overlay data and comments 60xx) are
// handled in groupRule.
var basicProfile = map[dataset.Tag]rule{
	0x00001000: {actX, false, false},   // Affected SOP Instance UID
	0x00001001: {actU, false, false},   // Requested SOP Instance UID
	0x00020003: {actU, false, false},   // Media Storage SOP Instance UID
	0x00041511: {actU, false, false},   // Referenced SOP Instance UID in File
	0x00080012: {actXD, true, false},   // Instance Creation Date
	0x00080013: {actXZD, true, false},  // Instance Creation Time
	0x00080014: {actU, false, false},   // Instance Creator UID
	0x00080015: {actX, true, false},    // Instance Coercion DateTime
	0x00080017: {actU, false, false},   // Acquisition UID
	0x00080018: {actU, false, false},   // SOP Instance UID
	0x00080019: {actU, false, false},   // Pyramid UID
	0x00080020: {actZ, true, false},    // Study Date
	0x00080021: {actXD, true, false},   // Series Date
	0x00080022: {actXZ, true, false},   // Acquisition Date
	0x00080023: {actZD, true, false},   // Content Date
	0x00080024: {actX, true, false},    // Overlay Date
	0x00080025: {actX, true, false},    // Curve Date
	0x0008002A: {actXZD, true, false},  // Acquisition DateTime
	0x00080030: {actZ, true, false},    // Study Time
	0x00080031: {actXD, true, false},   // Series Time
	0x00080032: {actXZ, true, false},   // Acquisition Time
	0x00080033: {actZD, true, false},   // Content Time
	0x00080034: {actX, true, false},    // Overlay Time
	0x00080035: {actX, true, false},    // Curve Time
	0x00080050: {actZ, false, false},   // Accession Number
	0x00080054: {actX, false, false},   // Retrieve AE Title
	0x00080055: {actX, false, false},   // Station AE Title
	0x00080058: {actU, false, false},   // Failed SOP Instance UID List
	0x00080080: {actXZD, false, false}, // Institution Name
	0x00080081: {actX, false, false},   // Institution Address
	0x00080082: {actXZD, false, false}, // Institution Code Sequence
	0x00080090: {actZ, false, false},   // Referring Physician's Name
	0x00080092: {actX, false, false},   // Referring Physician's Address
	0x00080094: {actX, false, false},   // Referring Physician's Telephone Numbers
	0x00080096: {actX, false, false},   // Referring Physician Identification Sequence
	0x0008009C: {actZ, false, false},   // Consulting Physician's Name
	0x0008009D: {actX, false, false},   // Consulting Physician Identification Sequence
	0x00080106: {actD, true, false},    // Context Group Version
	0x00080107: {actD, true, false},    // Context Group Local Version
	0x00080201: {actX, true, false},    // Timezone Offset From UTC
	0x00081000: {actX, false, false},   // Network ID
	0x00081010: {actXZD, false, true},  // Station Name
	0x00081030: {actX, false, false},   // Study Description
	0x0008103E: {actX, false, false},   // Series Description
	0x00081040: {actX, false, false},   // Institutional Department Name
	0x00081041: {actX, false, false},   // Institutional Department Type Code Sequence
	0x00081048: {actX, false, false},   // Physician(s) of Record
	0x00081049: {actX, false, false},   // Physician(s) of Record Identification Sequence
	0x00081050: {actX, false, false},   // Performing Physician's Name
	0x00081052: {actX, false, false},   // Performing Physician Identification Sequence
	0x00081060: {actX, false, false},   // Name of Physician(s) Reading Study
	0x00081062: {actX, false, false},   // Physician(s) Reading Study Identification Sequence
	0x00081070: {actXZD, false, false}, // Operators' Name
	0x00081072: {actXD, false, false},  // Operator Identification Sequence
	0x00081080: {actX, false, false},   // Admitting Diagnoses Description
	0x00081084: {actX, false, false},   // Admitting Diagnoses Code Sequence
	0x00081088: {actX, false, false},   // Pyramid Description
	0x00081110: {actXZ, false, false},  // Referenced Study Sequence
	0x00081111: {actXZD, false, false}, // Referenced Performed Procedure Step Sequence
	0x00081120: {actX, false, false},   // Referenced Patient Sequence
	0x00081140: {actXZU, false, false}, // Referenced Image Sequence
	0x00081155: {actU, false, false},   // Referenced SOP Instance UID
	0x00081195: {actU, false, false},   // Transaction UID
	0x00082111: {actX, false, false},   // Derivation Description
	0x00082112: {actXZU, false, false}, // Source Image Sequence
	0x00083010: {actU, false, false},   // Irradiation Event UID
	0x00084000: {actX, false, false},   // Identifying Comments
	0x00100010: {actZ, false, false},   // Patient's Name
	0x00100020: {actZD, false, false},  // Patient ID
	0x00100021: {actX, false, false},   // Issuer of Patient ID
	0x00100030: {actZ, false, false},   // Patient's Birth Date
	0x00100032: {actX, false, false},   // Patient's Birth Time
	0x00100040: {actZ, false, false},   // Patient's Sex
	0x00100050: {actX, false, false},   // Patient's Insurance Plan Code Sequence
	0x00100101: {actX, false, false},   // Patient's Primary Language Code Sequence
	0x00100102: {actX, false, false},   // Patient's Primary Language Modifier Code Sequence
	0x00101000: {actX, false, false},   // Other Patient IDs
	0x00101001: {actX, false, false},   // Other Patient Names
	0x00101002: {actX, false, false},   // Other Patient IDs Sequence
	0x00101005: {actX, false, false},   // Patient's Birth Name
	0x00101010: {actX, false, false},   // Patient's Age
	0x00101020: {actX, false, false},   // Patient's Size
	0x00101030: {actX, false, false},   // Patient's Weight
	0x00101040: {actX, false, false},   // Patient's Address
	0x00101050: {actX, false, false},   // Insurance Plan Identification
	0x00101060: {actX, false, false},   // Patient's Mother's Birth Name
	0x00101080: {actX, false, false},   // Military Rank
	0x00101081: {actX, false, false},   // Branch of Service
	0x00101090: {actX, false, false},   // Medical Record Locator
	0x00101100: {actX, false, false},   // Referenced Patient Photo Sequence
	0x00102000: {actX, false, false},   // Medical Alerts
	0x00102110: {actX, false, false},   // Allergies
	0x00102150: {actX, false, false},   // Country of Residence
	0x00102152: {actX, false, false},   // Region of Residence
	0x00102154: {actX, false, false},   // Patient's Telephone Numbers
	0x00102155: {actX, false, false},   // Patient's Telecom Information
	0x00102160: {actX, false, false},   // Ethnic Group
	0x00102180: {actX, false, false},   // Occupation
	0x001021A0: {actX, false, false},   // Smoking Status
	0x001021B0: {actX, false, false},   // Additional Patient History
	0x001021C0: {actX, false, false},   // Pregnancy Status
	0x001021D0: {actX, true, false},    // Last Menstrual Date
	0x001021F0: {actX, false, false},   // Patient's Religious Preference
	0x00102203: {actXZ, false, false},  // Patient's Sex Neutered
	0x00102297: {actX, false, false},   // Responsible Person
	0x00102299: {actX, false, false},   // Responsible Organization
	0x00104000: {actX, false, false},   // Patient Comments
	0x00120010: {actD, false, false},   // Clinical Trial Sponsor Name
	0x00120020: {actD, false, false},   // Clinical Trial Protocol ID
	0x00120021: {actZ, false, false},   // Clinical Trial Protocol Name
	0x00120022: {actX, false, false},   // Issuer of Clinical Trial Protocol ID
	0x00120023: {actX, false, false},   // Other Clinical Trial Protocol IDs Sequence
	0x00120030: {actZ, false, false},   // Clinical Trial Site ID
	0x00120031: {actZ, false, false},   // Clinical Trial Site Name
	0x00120032: {actX, false, false},   // Issuer of Clinical Trial Site ID
	0x00120040: {actD, false, false},   // Clinical Trial Subject ID
	0x00120041: {actX, false, false},   // Issuer of Clinical Trial Subject ID
	0x00120042: {actD, false, false},   // Clinical Trial Subject Reading ID
	0x00120043: {actX, false, false},   // Issuer of Clinical Trial Subject Reading ID
	0x00120050: {actZ, false, false},   // Clinical Trial Time Point ID
	0x00120051: {actX, false, false},   // Clinical Trial Time Point Description
	0x00120055: {actX, false, false},   // Issuer of Clinical Trial Time Point ID
	0x00120060: {actZ, false, false},   // Clinical Trial Coordinating Center Name
	0x00120071: {actX, false, false},   // Clinical Trial Series ID
	0x00120072: {actX, false, false},   // Clinical Trial Series Description
	0x00120073: {actX, false, false},   // Issuer of Clinical Trial Series ID
	0x00120081: {actD, false, false},   // Clinical Trial Protocol Ethics Committee Name
	0x00120082: {actX, false, false},   // Clinical Trial Protocol Ethics Committee Approval Number
	0x00120086: {actX, true, false},    // Ethics Committee Approval Effectiveness Start Date
	0x00120087: {actX, true, false},    // Ethics Committee Approval Effectiveness End Date
	0x0014407C: {actX, true, true},     // Calibration Time
	0x0014407E: {actX, true, true},     // Calibration Date
	0x0016002B: {actX, false, false},   // Maker Note
	0x0016004B: {actX, false, false},   // Device Setting Description
	0x0016004D: {actX, false, false},   // Camera Owner Name
	0x0016004E: {actX, false, true},    // Lens Specification
	0x0016004F: {actX, false, true},    // Lens Make
	0x00160050: {actX, false, true},    // Lens Model
	0x00160051: {actX, false, true},    // Lens Serial Number
	0x00160070: {actX, false, false},   // GPS Version ID
	0x00160071: {actX, false, false},   // GPS Latitude Ref
	0x00160072: {actX, false, false},   // GPS Latitude
	0x00160073: {actX, false, false},   // GPS Longitude Ref
	0x00160074: {actX, false, false},   // GPS Longitude
	0x00160075: {actX, false, false},   // GPS Altitude Ref
	0x00160076: {actX, false, false},   // GPS Altitude
	0x00160077: {actX, false, false},   // GPS Time Stamp
	0x00160078: {actX, false, false},   // GPS Satellites
	0x00160079: {actX, false, false},   // GPS Status
	0x0016007A: {actX, false, false},   // GPS Measure Mode
	0x0016007B: {actX, false, false},   // GPS DOP
	0x0016007C: {actX, false, false},   // GPS Speed Ref
	0x0016007D: {actX, false, false},   // GPS Speed
	0x0016007E: {actX, false, false},   // GPS Track Ref
	0x0016007F: {actX, false, false},   // GPS Track
	0x00160080: {actX, false, false},   // GPS Img Direction Ref
	0x00160081: {actX, false, false},   // GPS Img Direction
	0x00160082: {actX, false, false},   // GPS Map Datum
	0x00160083: {actX, false, false},   // GPS Dest Latitude Ref
	0x00160084: {actX, false, false},   // GPS Dest Latitude
	0x00160085: {actX, false, false},   // GPS Dest Longitude Ref
	0x00160086: {actX, false, false},   // GPS Dest Longitude
	0x00160087: {actX, false, false},   // GPS Dest Bearing Ref
	0x00160088: {actX, false, false},   // GPS Dest Bearing
	0x00160089: {actX, false, false},   // GPS Dest Distance Ref
	0x0016008A: {actX, false, false},   // GPS Dest Distance
	0x0016008B: {actX, false, false},   // GPS Processing Method
	0x0016008C: {actX, false, false},   // GPS Area Information
	0x0016008D: {actX, true, false},    // GPS Date Stamp
	0x0016008E: {actX, false, false},   // GPS Differential
	0x00180010: {actZD, false, false},  // Contrast/Bolus Agent
	0x00180027: {actX, true, false},    // Intervention Drug Stop Time
	0x00180035: {actX, true, false},    // Intervention Drug Start Time
	0x00181000: {actXZD, false, true},  // Device Serial Number
	0x00181002: {actU, false, true},    // Device UID
	0x00181004: {actX, false, true},    // Plate ID
	0x00181005: {actX, false, true},    // Generator ID
	0x00181007: {actX, false, true},    // Cassette ID
	0x00181008: {actX, false, true},    // Gantry ID
	0x00181009: {actX, false, true},    // Unique Device Identifier
	0x0018100A: {actX, false, true},    // UDI Sequence
	0x0018100B: {actU, false, true},    // Manufacturer's Device Class UID
	0x00181012: {actX, true, false},    // Date of Secondary Capture
	0x00181014: {actX, true, false},    // Time of Secondary Capture
	0x00181030: {actXD, false, false},  // Protocol Name
	0x00181042: {actX, true, false},    // Contrast/Bolus Start Time
	0x00181043: {actX, true, false},    // Contrast/Bolus Stop Time
	0x00181072: {actX, true, false},    // Radiopharmaceutical Start Time
	0x00181073: {actX, true, false},    // Radiopharmaceutical Stop Time
	0x00181078: {actX, true, false},    // Radiopharmaceutical Start DateTime
	0x00181079: {actX, true, false},    // Radiopharmaceutical Stop DateTime
	0x001811BB: {actD, false, false},   // Acquisition Field Of View Label
	0x00181200: {actX, true, true},     // Date of Last Calibration
	0x00181201: {actX, true, true},     // Time of Last Calibration
	0x00181202: {actX, true, true},     // DateTime of Last Calibration
	0x00181203: {actZ, true, true},     // Calibration DateTime
	0x00181204: {actX, true, true},     // Date of Manufacture
	0x00181205: {actX, true, true},     // Date of Installation
	0x00181400: {actXD, false, false},  // Acquisition Device Processing Description
	0x00182042: {actU, false, false},   // Target UID
	0x00184000: {actX, false, false},   // Acquisition Comments
	0x00185011: {actX, false, true},    // Transducer Identification Sequence
	0x0018700A: {actXD, false, true},   // Detector ID
	0x0018700C: {actXD, true, true},    // Date of Last Detector Calibration
	0x0018700E: {actXD, true, true},    // Time of Last Detector Calibration
	0x00189074: {actD, true, false},    // Frame Acquisition DateTime
	0x00189151: {actD, true, false},    // Frame Reference DateTime
	0x00189185: {actX, false, false},   // Respiratory Motion Compensation Technique Description
	0x00189367: {actD, false, true},    // X-Ray Source ID
	0x00189369: {actD, true, false},    // Source Start DateTime
	0x0018936A: {actD, true, false},    // Source End DateTime
	0x00189371: {actD, false, true},    // X-Ray Detector ID
	0x00189373: {actX, false, true},    // X-Ray Detector Label
	0x0018937B: {actX, false, false},   // Multi-energy Acquisition Description
	0x0018937F: {actX, false, false},   // Decomposition Description
	0x00189424: {actX, false, false},   // Acquisition Protocol Description
	0x00189516: {actXD, true, false},   // Start Acquisition DateTime
	0x00189517: {actXD, true, false},   // End Acquisition DateTime
	0x00189623: {actD, true, false},    // Functional Sync Pulse
	0x00189701: {actD, true, false},    // Decay Correction DateTime
	0x00189804: {actD, true, false},    // Exclusion Start DateTime
	0x00189919: {actZD, true, false},   // Instruction Performed DateTime
	0x00189937: {actX, false, false},   // Requested Series Description
	0x0018A002: {actX, true, false},    // Contribution DateTime
	0x0018A003: {actX, false, false},   // Contribution Description
	0x0020000D: {actU, false, false},   // Study Instance UID
	0x0020000E: {actU, false, false},   // Series Instance UID
	0x00200010: {actZ, false, false},   // Study ID
	0x00200027: {actX, false, false},   // Pyramid Label
	0x00200052: {actU, false, false},   // Frame of Reference UID
	0x00200200: {actU, false, false},   // Synchronization Frame of Reference UID
	0x00203401: {actX, false, true},    // Modifying Device ID
	0x00203403: {actX, true, false},    // Modified Image Date
	0x00203405: {actX, true, false},    // Modified Image Time
	0x00203406: {actX, false, false},   // Modified Image Description
	0x00204000: {actX, false, false},   // Image Comments
	0x00209158: {actX, false, false},   // Frame Comments
	0x00209161: {actU, false, false},   // Concatenation UID
	0x00209164: {actU, false, false},   // Dimension Organization UID
	0x00281199: {actU, false, false},   // Palette Color Lookup Table UID
	0x00281214: {actU, false, false},   // Large Palette Color Lookup Table UID
	0x00284000: {actX, false, false},   // Image Presentation Comments
	0x00320012: {actX, false, false},   // Study ID Issuer
	0x00320032: {actX, true, false},    // Study Verified Date
	0x00320033: {actX, true, false},    // Study Verified Time
	0x00320034: {actX, true, false},    // Study Read Date
	0x00320035: {actX, true, false},    // Study Read Time
	0x00321000: {actX, true, false},    // Scheduled Study Start Date
	0x00321001: {actX, true, false},    // Scheduled Study Start Time
	0x00321010: {actX, true, false},    // Scheduled Study Stop Date
	0x00321011: {actX, true, false},    // Scheduled Study Stop Time
	0x00321020: {actX, false, true},    // Scheduled Study Location
	0x00321021: {actX, false, false},   // Scheduled Study Location AE Title
	0x00321030: {actX, false, false},   // Reason for Study
	0x00321032: {actX, false, false},   // Requesting Physician
	0x00321033: {actX, false, false},   // Requesting Service
	0x00321040: {actX, true, false},    // Study Arrival Date
	0x00321041: {actX, true, false},    // Study Arrival Time
	0x00321050: {actX, true, false},    // Study Completion Date
	0x00321051: {actX, true, false},    // Study Completion Time
	0x00321060: {actXZ, false, false},  // Requested Procedure Description
	0x00321066: {actX, false, false},   // Reason for Visit
	0x00321067: {actX, false, false},   // Reason for Visit Code Sequence
	0x00321070: {actX, false, false},   // Requested Contrast Agent
	0x00324000: {actX, false, false},   // Study Comments
	0x00340001: {actD, false, false},   // Flow Identifier Sequence
	0x00340002: {actD, false, false},   // Flow Identifier
	0x00340005: {actD, false, false},   // Source Identifier
	0x00340007: {actD, true, false},    // Frame Origin Timestamp
	0x00380004: {actX, false, false},   // Referenced Patient Alias Sequence
	0x00380010: {actX, false, false},   // Admission ID
	0x00380011: {actX, false, false},   // Issuer of Admission ID
	0x00380014: {actX, false, false},   // Issuer of Admission ID Sequence
	0x0038001A: {actX, true, false},    // Scheduled Admission Date
	0x0038001B: {actX, true, false},    // Scheduled Admission Time
	0x0038001C: {actX, true, false},    // Scheduled Discharge Date
	0x0038001D: {actX, true, false},    // Scheduled Discharge Time
	0x0038001E: {actX, false, false},   // Scheduled Patient Institution Residence
	0x00380020: {actX, true, false},    // Admitting Date
	0x00380021: {actX, true, false},    // Admitting Time
	0x00380030: {actX, true, false},    // Discharge Date
	0x00380032: {actX, true, false},    // Discharge Time
	0x00380040: {actX, false, false},   // Discharge Diagnosis Description
	0x00380050: {actX, false, false},   // Special Needs
	0x00380060: {actX, false, false},   // Service Episode ID
	0x00380061: {actX, false, false},   // Issuer of Service Episode ID
	0x00380062: {actX, false, false},   // Service Episode Description
	0x00380064: {actX, false, false},   // Issuer of Service Episode ID Sequence
	0x00380300: {actX, false, false},   // Current Patient Location
	0x00380400: {actX, false, false},   // Patient's Institution Residence
	0x00380500: {actX, false, false},   // Patient State
	0x00384000: {actX, false, false},   // Visit Comments
	0x003A0310: {actU, false, false},   // Multiplex Group UID
	0x003A0314: {actD, true, false},    // Impedance Measurement DateTime
	0x003A0329: {actX, false, false},   // Waveform Filter Description
	0x003A032B: {actX, false, false},   // Filter Lookup Table Description
	0x00400001: {actX, false, false},   // Scheduled Station AE Title
	0x00400002: {actX, true, false},    // Scheduled Procedure Step Start Date
	0x00400003: {actX, true, false},    // Scheduled Procedure Step Start Time
	0x00400004: {actX, true, false},    // Scheduled Procedure Step End Date
	0x00400005: {actX, true, false},    // Scheduled Procedure Step End Time
	0x00400006: {actX, false, false},   // Scheduled Performing Physician's Name
	0x00400007: {actX, false, false},   // Scheduled Procedure Step Description
	0x00400009: {actX, false, false},   // Scheduled Procedure Step ID
	0x0040000B: {actX, false, false},   // Scheduled Performing Physician Identification Sequence
	0x00400010: {actX, false, true},    // Scheduled Station Name
	0x00400011: {actX, false, true},    // Scheduled Procedure Step Location
	0x00400012: {actX, false, false},   // Pre-Medication
	0x00400241: {actX, false, false},   // Performed Station AE Title
	0x00400242: {actX, false, true},    // Performed Station Name
	0x00400243: {actX, false, false},   // Performed Location
	0x00400244: {actX, true, false},    // Performed Procedure Step Start Date
	0x00400245: {actX, true, false},    // Performed Procedure Step Start Time
	0x00400250: {actX, true, false},    // Performed Procedure Step End Date
	0x00400251: {actX, true, false},    // Performed Procedure Step End Time
	0x00400253: {actX, false, false},   // Performed Procedure Step ID
	0x00400254: {actX, false, false},   // Performed Procedure Step Description
	0x00400275: {actX, false, false},   // Request Attributes Sequence
	0x00400280: {actX, false, false},   // Comments on the Performed Procedure Step
	0x00400310: {actX, false, false},   // Comments on Radiation Dose
	0x0040050A: {actX, false, false},   // Specimen Accession Number
	0x00400512: {actD, false, false},   // Container Identifier
	0x00400513: {actZ, false, false},   // Issuer of the Container Identifier Sequence
	0x0040051A: {actX, false, false},   // Container Description
	0x00400551: {actD, false, false},   // Specimen Identifier
	0x00400554: {actU, false, false},   // Specimen UID
	0x00400555: {actXZ, false, false},  // Acquisition Context Sequence
	0x00400562: {actZ, false, false},   // Issuer of the Specimen Identifier Sequence
	0x00400600: {actX, false, false},   // Specimen Short Description
	0x00400602: {actX, false, false},   // Specimen Detailed Description
	0x00400610: {actZ, false, false},   // Specimen Preparation Sequence
	0x004006FA: {actX, false, false},   // Slide Identifier
	0x00401001: {actX, false, false},   // Requested Procedure ID
	0x00401002: {actX, false, false},   // Reason for the Requested Procedure
	0x00401004: {actX, false, false},   // Patient Transport Arrangements
	0x00401005: {actX, false, false},   // Requested Procedure Location
	0x0040100A: {actX, false, false},   // Reason for Requested Procedure Code Sequence
	0x00401010: {actX, false, false},   // Names of Intended Recipients of Results
	0x00401011: {actX, false, false},   // Intended Recipients of Results Identification Sequence
	0x00401101: {actD, false, false},   // Person Identification Code Sequence
	0x00401102: {actX, false, false},   // Person's Address
	0x00401103: {actX, false, false},   // Person's Telephone Numbers
	0x00401104: {actX, false, false},   // Person's Telecom Information
	0x00401400: {actX, false, false},   // Requested Procedure Comments
	0x00402001: {actX, false, false},   // Reason for the Imaging Service Request
	0x00402004: {actX, true, false},    // Issue Date of Imaging Service Request
	0x00402005: {actX, true, false},    // Issue Time of Imaging Service Request
	0x00402008: {actX, false, false},   // Order Entered By
	0x00402009: {actX, false, false},   // Order Enterer's Location
	0x00402010: {actX, false, false},   // Order Callback Phone Number
	0x00402011: {actX, false, false},   // Order Callback Telecom Information
	0x00402016: {actZ, false, false},   // Placer Order Number / Imaging Service Request
	0x00402017: {actZ, false, false},   // Filler Order Number / Imaging Service Request
	0x00402400: {actX, false, false},   // Imaging Service Request Comments
	0x00403001: {actX, false, false},   // Confidentiality Constraint on Patient Data Description
	0x00404005: {actX, true, false},    // Scheduled Procedure Step Start DateTime
	0x00404008: {actX, true, false},    // Scheduled Procedure Step Expiration DateTime
	0x00404010: {actX, true, false},    // Scheduled Procedure Step Modification DateTime
	0x00404011: {actX, true, false},    // Expected Completion DateTime
	0x00404023: {actU, false, false},   // Referenced General Purpose Scheduled Procedure Step Transaction UID
	0x00404025: {actX, false, true},    // Scheduled Station Name Code Sequence
	0x00404027: {actX, false, true},    // Scheduled Station Geographic Location Code Sequence
	0x00404028: {actX, false, true},    // Performed Station Name Code Sequence
	0x00404030: {actX, false, true},    // Performed Station Geographic Location Code Sequence
	0x00404034: {actX, false, false},   // Scheduled Human Performers Sequence
	0x00404035: {actX, false, false},   // Actual Human Performers Sequence
	0x00404036: {actX, false, false},   // Human Performer's Organization
	0x00404037: {actX, false, false},   // Human Performer's Name
	0x00404050: {actX, true, false},    // Performed Procedure Step Start DateTime
	0x00404051: {actX, true, false},    // Performed Procedure Step End DateTime
	0x00404052: {actX, true, false},    // Procedure Step Cancellation DateTime
	0x0040A023: {actX, true, false},    // Findings Group Recording Date (Trial)
	0x0040A024: {actX, true, false},    // Findings Group Recording Time (Trial)
	0x0040A027: {actD, false, false},   // Verifying Organization
	0x0040A030: {actD, true, false},    // Verification DateTime
	0x0040A032: {actXD, true, false},   // Observation DateTime
	0x0040A033: {actX, true, false},    // Observation Start DateTime
	0x0040A073: {actD, false, false},   // Verifying Observer Sequence
	0x0040A075: {actD, false, false},   // Verifying Observer Name
	0x0040A078: {actX, false, false},   // Author Observer Sequence
	0x0040A07A: {actX, false, false},   // Participant Sequence
	0x0040A07C: {actX, false, false},   // Custodial Organization Sequence
	0x0040A082: {actZ, true, false},    // Participation DateTime
	0x0040A088: {actZ, false, false},   // Verifying Observer Identification Code Sequence
	0x0040A110: {actX, true, false},    // Date of Document or Verbal Transaction (Trial)
	0x0040A112: {actX, true, false},    // Time of Document Creation or Verbal Transaction (Trial)
	0x0040A120: {actD, true, false},    // DateTime
	0x0040A121: {actD, true, false},    // Date
	0x0040A122: {actD, true, false},    // Time
	0x0040A123: {actD, false, false},   // Person Name
	0x0040A124: {actU, false, false},   // UID
	0x0040A13A: {actD, true, false},    // Referenced DateTime
	0x0040A171: {actU, false, false},   // Observation UID
	0x0040A172: {actU, false, false},   // Referenced Observation UID (Trial)
	0x0040A192: {actX, true, false},    // Observation Date (Trial)
	0x0040A193: {actX, true, false},    // Observation Time (Trial)
	0x0040A307: {actX, false, false},   // Current Observer (Trial)
	0x0040A352: {actX, false, false},   // Verbal Source (Trial)
	0x0040A353: {actX, false, false},   // Address (Trial)
	0x0040A354: {actX, false, false},   // Telephone Number (Trial)
	0x0040A358: {actX, false, false},   // Verbal Source Identifier Code Sequence (Trial)
	0x0040A402: {actU, false, false},   // Observation Subject UID (Trial)
	0x0040A730: {actX, false, false},   // Content Sequence
	0x0040DB06: {actX, true, false},    // Template Version
	0x0040DB07: {actX, true, false},    // Template Local Version
	0x0040DB0C: {actU, false, false},   // Template Extension Organization UID
	0x0040DB0D: {actU, false, false},   // Template Extension Creator UID
	0x0040E004: {actX, true, false},    // HL7 Document Effective Time
	0x00420011: {actD, false, false},   // Encapsulated Document
	0x00440004: {actX, true, false},    // Approval Status DateTime
	0x0044000B: {actX, true, false},    // Product Expiration DateTime
	0x00440010: {actX, true, false},    // Substance Administration DateTime
	0x00440104: {actD, true, false},    // Assertion DateTime
	0x00440105: {actX, true, false},    // Assertion Expiration DateTime
	0x0050001B: {actX, false, false},   // Container Component ID
	0x00500020: {actX, false, true},    // Device Description
	0x00500021: {actX, false, false},   // Long Device Description
	0x00620021: {actU, false, false},   // Tracking UID
	0x00640003: {actU, false, false},   // Source Frame of Reference UID
	0x00686226: {actD, true, false},    // Effective DateTime
	0x00686270: {actD, true, false},    // Information Issue DateTime
	0x006A0003: {actD, false, false},   // Annotation Group UID
	0x006A0005: {actD, false, false},   // Annotation Group Label
	0x006A0006: {actX, false, false},   // Annotation Group Description
	0x00700001: {actD, false, false},   // Graphic Annotation Sequence
	0x00700082: {actX, true, false},    // Presentation Creation Date
	0x00700083: {actX, true, false},    // Presentation Creation Time
	0x00700084: {actZD, false, false},  // Content Creator's Name
	0x00700086: {actX, false, false},   // Content Creator's Identification Code Sequence
	0x0070031A: {actU, false, false},   // Fiducial UID
	0x00701101: {actU, false, false},   // Presentation Display Collection UID
	0x00701102: {actU, false, false},   // Presentation Sequence Collection UID
	0x0072000A: {actD, true, false},    // Hanging Protocol Creation DateTime
	0x0072005E: {actD, false, false},   // Selector AE Value
	0x0072005F: {actD, false, false},   // Selector AS Value
	0x00720061: {actD, true, false},    // Selector DA Value
	0x00720063: {actD, true, false},    // Selector DT Value
	0x00720065: {actD, false, false},   // Selector OB Value
	0x00720066: {actD, false, false},   // Selector LO Value
	0x00720068: {actD, false, false},   // Selector LT Value
	0x0072006A: {actD, false, false},   // Selector PN Value
	0x0072006B: {actD, true, false},    // Selector TM Value
	0x0072006C: {actD, false, false},   // Selector SH Value
	0x0072006D: {actD, false, false},   // Selector UN Value
	0x0072006E: {actD, false, false},   // Selector ST Value
	0x00720070: {actD, false, false},   // Selector UT Value
	0x00720071: {actD, false, false},   // Selector UR Value
	0x00741234: {actX, false, false},   // Receiving AE
	0x00741236: {actX, false, false},   // Requesting AE
	0x00880140: {actU, false, false},   // Storage Media File-set UID
	0x00880200: {actX, false, false},   // Icon Image Sequence (see Note 11)
	0x00880904: {actX, false, false},   // Topic Title
	0x00880906: {actX, false, false},   // Topic Subject
	0x00880910: {actX, false, false},   // Topic Author
	0x00880912: {actX, false, false},   // Topic Keywords
	0x01000420: {actX, true, false},    // SOP Authorization DateTime
	0x04000100: {actU, false, false},   // Digital Signature UID
	0x04000105: {actD, true, false},    // Digital Signature DateTime
	0x04000115: {actD, false, false},   // Certificate of Signer
	0x04000310: {actX, true, false},    // Certified Timestamp
	0x04000402: {actX, false, false},   // Referenced Digital Signature Sequence
	0x04000403: {actX, false, false},   // Referenced SOP Instance MAC Sequence
	0x04000404: {actX, false, false},   // MAC
	0x04000550: {actX, false, false},   // Modified Attributes Sequence
	0x04000551: {actX, false, false},   // Nonconforming Modified Attributes Sequence
	0x04000552: {actX, false, false},   // Nonconforming Data Element Value
	0x04000561: {actX, false, false},   // Original Attributes Sequence
	0x04000562: {actD, true, false},    // Attribute Modification DateTime
	0x04000563: {actD, false, true},    // Modifying System
	0x04000564: {actZ, false, false},   // Source of Previous Values
	0x04000565: {actD, false, false},   // Reason for the Attribute Modification
	0x04000600: {actX, false, false},   // Instance Origin Status
	0x20300020: {actX, false, false},   // Text String
	0x21000040: {actX, true, false},    // Creation Date
	0x21000050: {actX, true, false},    // Creation Time
	0x21000070: {actX, false, false},   // Originator
	0x21000140: {actD, false, false},   // Destination AE
	0x22000002: {actXZ, false, false},  // Label Text
	0x22000005: {actXZ, false, false},  // Barcode Value
	0x30020121: {actX, false, false},   // Position Acquisition Template Name
	0x30020123: {actX, false, false},   // Position Acquisition Template Description
	0x30060002: {actD, false, false},   // Structure Set Label
	0x30060004: {actX, false, false},   // Structure Set Name
	0x30060006: {actX, false, false},   // Structure Set Description
	0x30060008: {actZ, true, false},    // Structure Set Date
	0x30060009: {actZ, true, false},    // Structure Set Time
	0x30060024: {actU, false, false},   // Referenced Frame of Reference UID
	0x30060026: {actZ, false, false},   // ROI Name
	0x30060028: {actX, false, false},   // ROI Description
	0x3006002D: {actX, true, false},    // ROI DateTime
	0x3006002E: {actX, true, false},    // ROI Observation DateTime
	0x30060038: {actX, false, false},   // ROI Generation Description
	0x3006004D: {actX, false, false},   // ROI Creator Sequence
	0x3006004E: {actX, false, false},   // ROI Interpreter Sequence
	0x30060085: {actX, false, false},   // ROI Observation Label
	0x30060088: {actX, false, false},   // ROI Observation Description
	0x300600A6: {actZ, false, false},   // ROI Interpreter
	0x300600C2: {actU, false, false},   // Related Frame of Reference UID
	0x30080024: {actD, true, false},    // Treatment Control Point Date
	0x30080025: {actD, true, false},    // Treatment Control Point Time
	0x30080054: {actXD, true, false},   // First Treatment Date
	0x30080056: {actXD, true, false},   // Most Recent Treatment Date
	0x30080105: {actXZ, false, true},   // Source Serial Number
	0x30080162: {actD, true, false},    // Safe Position Exit Date
	0x30080164: {actD, true, false},    // Safe Position Exit Time
	0x30080166: {actD, true, false},    // Safe Position Return Date
	0x30080168: {actD, true, false},    // Safe Position Return Time
	0x30080250: {actXD, true, false},   // Treatment Date
	0x30080251: {actXD, true, false},   // Treatment Time
	0x300A0002: {actD, false, false},   // RT Plan Label
	0x300A0003: {actX, false, false},   // RT Plan Name
	0x300A0004: {actX, false, false},   // RT Plan Description
	0x300A0006: {actXD, true, false},   // RT Plan Date
	0x300A0007: {actXD, true, false},   // RT Plan Time
	0x300A000B: {actX, false, false},   // Treatment Sites
	0x300A000E: {actX, false, false},   // Prescription Description
	0x300A0013: {actU, false, false},   // Dose Reference UID
	0x300A0016: {actX, false, false},   // Dose Reference Description
	0x300A0072: {actX, false, false},   // Fraction Group Description
	0x300A0083: {actU, false, false},   // Referenced Dose Reference UID
	0x300A00B2: {actXZ, false, true},   // Treatment Machine Name
	0x300A00C3: {actX, false, false},   // Beam Description
	0x300A00DD: {actX, false, false},   // Bolus Description
	0x300A0196: {actX, false, false},   // Fixation Device Description
	0x300A01A6: {actX, false, false},   // Shielding Device Description
	0x300A01B2: {actX, false, false},   // Setup Technique Description
	0x300A0216: {actX, false, true},    // Source Manufacturer
	0x300A022C: {actD, true, false},    // Source Strength Reference Date
	0x300A022E: {actD, true, false},    // Source Strength Reference Time
	0x300A02EB: {actX, false, false},   // Compensator Description
	0x300A0608: {actD, false, false},   // Treatment Position Group Label
	0x300A0609: {actU, false, false},   // Treatment Position Group UID
	0x300A0611: {actZ, false, false},   // RT Accessory Holder Slot ID
	0x300A0615: {actZ, false, false},   // RT Accessory Device Slot ID
	0x300A0619: {actD, false, false},   // Radiation Dose Identification Label
	0x300A0623: {actD, false, false},   // Radiation Dose In-Vivo Measurement Label
	0x300A062A: {actD, false, false},   // RT Tolerance Set Label
	0x300A0650: {actU, false, false},   // Patient Setup UID
	0x300A0676: {actX, false, false},   // Equipment Frame of Reference Description
	0x300A067C: {actD, false, false},   // Radiation Generation Mode Label
	0x300A067D: {actZ, false, false},   // Radiation Generation Mode Description
	0x300A0700: {actU, false, false},   // Treatment Session UID
	0x300A0734: {actD, false, false},   // Treatment Tolerance Violation Description
	0x300A0736: {actD, true, false},    // Treatment Tolerance Violation DateTime
	0x300A073A: {actD, true, false},    // Recorded RT Control Point DateTime
	0x300A0741: {actD, true, false},    // Interlock DateTime
	0x300A0742: {actD, false, false},   // Interlock Description
	0x300A0760: {actD, true, false},    // Override DateTime
	0x300A0783: {actD, false, false},   // Interlock Origin Description
	0x300A0785: {actU, false, false},   // Referenced Treatment Position Group UID
	0x300A078E: {actX, false, false},   // Patient Treatment Preparation Procedure Parameter Description
	0x300A0792: {actX, false, false},   // Patient Treatment Preparation Method Description
	0x300A0794: {actX, false, false},   // Patient Setup Photo Description
	0x300A079A: {actX, false, false},   // Displacement Reference Label
	0x300C0113: {actX, false, false},   // Reason for Omission Description
	0x300C0127: {actD, true, true},     // Beam Hold Transition DateTime
	0x300E0004: {actZ, true, false},    // Review Date
	0x300E0005: {actZ, true, false},    // Review Time
	0x300E0008: {actXZ, false, false},  // Reviewer Name
	0x30100006: {actU, false, false},   // Conceptual Volume UID
	0x3010000B: {actU, false, false},   // Referenced Conceptual Volume UID
	0x3010000F: {actZ, false, false},   // Conceptual Volume Combination Description
	0x30100013: {actU, false, false},   // Constituent Conceptual Volume UID
	0x30100015: {actU, false, false},   // Source Conceptual Volume UID
	0x30100017: {actZ, false, false},   // Conceptual Volume Description
	0x3010001B: {actZ, false, false},   // Device Alternate Identifier
	0x3010002D: {actD, false, true},    // Device Label
	0x30100031: {actU, false, false},   // Referenced Fiducials UID
	0x30100033: {actD, false, false},   // User Content Label
	0x30100034: {actD, false, false},   // User Content Long Label
	0x30100035: {actD, false, false},   // Entity Label
	0x30100036: {actX, false, false},   // Entity Name
	0x30100037: {actX, false, false},   // Entity Description
	0x30100038: {actD, false, false},   // Entity Long Label
	0x3010003B: {actU, false, false},   // RT Treatment Phase UID
	0x30100043: {actZ, false, true},    // Manufacturer's Device Identifier
	0x3010004C: {actXD, true, false},   // Intended Phase Start Date
	0x3010004D: {actXD, true, false},   // Intended Phase End Date
	0x30100054: {actD, false, false},   // RT Prescription Label
	0x30100056: {actXD, false, false},  // RT Treatment Approach Label
	0x3010005A: {actZ, false, false},   // RT Physician Intent Narrative
	0x3010005C: {actZ, false, false},   // Reason for Superseding
	0x30100061: {actX, false, false},   // Prior Treatment Dose Description
	0x3010006E: {actU, false, false},   // Dosimetric Objective UID
	0x3010006F: {actU, false, false},   // Referenced Dosimetric Objective UID
	0x30100077: {actXD, false, false},  // Treatment Site
	0x3010007A: {actZ, false, false},   // Treatment Technique Notes
	0x3010007B: {actZ, false, false},   // Prescription Notes
	0x3010007F: {actZ, false, false},   // Fractionation Notes
	0x30100081: {actZ, false, false},   // Prescription Notes Sequence
	0x30100085: {actX, true, false},    // Intended Fraction Start Time
	0x40000010: {actX, false, false},   // Arbitrary
	0x40004000: {actX, false, false},   // Text Comments
	0x40080040: {actX, false, false},   // Results ID
	0x40080042: {actX, false, false},   // Results ID Issuer
	0x40080100: {actX, true, false},    // Interpretation Recorded Date
	0x40080101: {actX, true, false},    // Interpretation Recorded Time
	0x40080102: {actX, false, false},   // Interpretation Recorder
	0x40080108: {actX, true, false},    // Interpretation Transcription Date
	0x40080109: {actX, true, false},    // Interpretation Transcription Time
	0x4008010A: {actX, false, false},   // Interpretation Transcriber
	0x4008010B: {actX, false, false},   // Interpretation Text
	0x4008010C: {actX, false, false},   // Interpretation Author
	0x40080111: {actX, false, false},   // Interpretation Approver Sequence
	0x40080112: {actX, true, false},    // Interpretation Approval Date
	0x40080113: {actX, true, false},    // Interpretation Approval Time
	0x40080114: {actX, false, false},   // Physician Approving Interpretation
	0x40080115: {actX, false, false},   // Interpretation Diagnosis Description
	0x40080118: {actX, false, false},   // Results Distribution List Sequence
	0x40080119: {actX, false, false},   // Distribution Name
	0x4008011A: {actX, false, false},   // Distribution Address
	0x40080200: {actX, false, false},   // Interpretation ID
	0x40080202: {actX, false, false},   // Interpretation ID Issuer
	0x40080300: {actX, false, false},   // Impressions
	0x40084000: {actX, false, false},   // Results Comments
	0xFFFAFFFA: {actX, false, false},   // Digital Signatures Sequence
	0xFFFCFFFC: {actX, false, false},   // Data Set Trailing Padding
}
