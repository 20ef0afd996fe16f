package dataset

// Tag is a DICOM attribute tag: group<<16 | element.
type Tag uint32

// T makes a Tag from its group and element numbers.
func T(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group returns the tag's group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// Element returns the tag's element number.
func (t Tag) Element() uint16 { return uint16(t) }

// Tags the project reads, named by their DICOM keywords (PS3.6).
const (
	FileMetaInformationGroupLength Tag = 0x00020000
	MediaStorageSOPClassUID        Tag = 0x00020002
	MediaStorageSOPInstanceUID     Tag = 0x00020003
	TransferSyntaxUID              Tag = 0x00020010
	ImplementationClassUID         Tag = 0x00020012

	SpecificCharacterSet                      Tag = 0x00080005
	ImageType                                 Tag = 0x00080008
	SOPClassUID                               Tag = 0x00080016
	SOPInstanceUID                            Tag = 0x00080018
	StudyDate                                 Tag = 0x00080020
	SeriesDate                                Tag = 0x00080021
	ContentDate                               Tag = 0x00080023
	StudyTime                                 Tag = 0x00080030
	SeriesTime                                Tag = 0x00080031
	ContentTime                               Tag = 0x00080033
	AccessionNumber                           Tag = 0x00080050
	Modality                                  Tag = 0x00080060
	ModalitiesInStudy                         Tag = 0x00080061
	Manufacturer                              Tag = 0x00080070
	InstitutionName                           Tag = 0x00080080
	ReferringPhysicianName                    Tag = 0x00080090
	StudyDescription                          Tag = 0x00081030
	SeriesDescription                         Tag = 0x0008103E
	NameOfPhysiciansReadingStudy              Tag = 0x00081060
	BurnedInAnnotation                        Tag = 0x00280301
	RecommendedDisplayFrameRate               Tag = 0x00082144
	PatientName                               Tag = 0x00100010
	PatientID                                 Tag = 0x00100020
	IssuerOfPatientID                         Tag = 0x00100021
	PatientBirthDate                          Tag = 0x00100030
	PatientSex                                Tag = 0x00100040
	PatientAge                                Tag = 0x00101010
	BodyPartExamined                          Tag = 0x00180015
	SliceThickness                            Tag = 0x00180050
	CineRate                                  Tag = 0x00180040
	FrameTime                                 Tag = 0x00181063
	FrameTimeVector                           Tag = 0x00181065
	ImagerPixelSpacing                        Tag = 0x00181164
	PreferredPlaybackSequencing               Tag = 0x00181244
	SequenceOfUltrasoundRegions               Tag = 0x00186011
	StudyInstanceUID                          Tag = 0x0020000D
	SeriesInstanceUID                         Tag = 0x0020000E
	StudyID                                   Tag = 0x00200010
	SeriesNumber                              Tag = 0x00200011
	InstanceNumber                            Tag = 0x00200013
	ImagePositionPatient                      Tag = 0x00200032
	ImageOrientationPatient                   Tag = 0x00200037
	SliceLocation                             Tag = 0x00201041
	SamplesPerPixel                           Tag = 0x00280002
	PhotometricInterpretation                 Tag = 0x00280004
	PlanarConfiguration                       Tag = 0x00280006
	NumberOfFrames                            Tag = 0x00280008
	FrameIncrementPointer                     Tag = 0x00280009
	Rows                                      Tag = 0x00280010
	Columns                                   Tag = 0x00280011
	PixelSpacing                              Tag = 0x00280030
	BitsAllocated                             Tag = 0x00280100
	BitsStored                                Tag = 0x00280101
	HighBit                                   Tag = 0x00280102
	PixelRepresentation                       Tag = 0x00280103
	PixelPaddingValue                         Tag = 0x00280120
	LossyImageCompression                     Tag = 0x00282110
	LossyImageCompressionRatio                Tag = 0x00282112
	LossyImageCompressionMethod               Tag = 0x00282114
	WindowCenter                              Tag = 0x00281050
	WindowWidth                               Tag = 0x00281051
	RescaleIntercept                          Tag = 0x00281052
	RescaleSlope                              Tag = 0x00281053
	RescaleType                               Tag = 0x00281054
	WindowCenterWidthExplanation              Tag = 0x00281055
	VOILUTFunction                            Tag = 0x00281056
	RedPaletteColorLookupTableDescriptor      Tag = 0x00281101
	GreenPaletteColorLookupTableDescriptor    Tag = 0x00281102
	BluePaletteColorLookupTableDescriptor     Tag = 0x00281103
	RedPaletteColorLookupTableData            Tag = 0x00281201
	GreenPaletteColorLookupTableData          Tag = 0x00281202
	BluePaletteColorLookupTableData           Tag = 0x00281203
	SegmentedRedPaletteColorLookupTableData   Tag = 0x00281221
	SegmentedGreenPaletteColorLookupTableData Tag = 0x00281222
	SegmentedBluePaletteColorLookupTableData  Tag = 0x00281223
	ModalityLUTSequence                       Tag = 0x00283000
	LUTDescriptor                             Tag = 0x00283002
	LUTExplanation                            Tag = 0x00283003
	ModalityLUTType                           Tag = 0x00283004
	LUTData                                   Tag = 0x00283006
	VOILUTSequence                            Tag = 0x00283010
	PresentationLUTShape                      Tag = 0x20500020
	SharedFunctionalGroupsSequence            Tag = 0x52009229
	PerFrameFunctionalGroupsSequence          Tag = 0x52009230
	PixelValueTransformationSequence          Tag = 0x00289145
	FrameVOILUTSequence                       Tag = 0x00289132
	ExtendedOffsetTable                       Tag = 0x7FE00001
	ExtendedOffsetTableLengths                Tag = 0x7FE00002
	FloatPixelData                            Tag = 0x7FE00008
	DoubleFloatPixelData                      Tag = 0x7FE00009
	PixelData                                 Tag = 0x7FE00010

	Item                   Tag = 0xFFFEE000
	ItemDelimitationItem   Tag = 0xFFFEE00D
	SequenceDelimitation   Tag = 0xFFFEE0DD
	DataSetTrailingPadding Tag = 0xFFFCFFFC
)

// Transfer syntax UIDs (PS3.5 Section 10 and Annex A).
const (
	ImplicitVRLittleEndian         = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian         = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian            = "1.2.840.10008.1.2.2"
	RLELossless                    = "1.2.840.10008.1.2.5"
	JPEGBaseline                   = "1.2.840.10008.1.2.4.50"
	JPEGExtended                   = "1.2.840.10008.1.2.4.51"
	JPEGLossless                   = "1.2.840.10008.1.2.4.57"
	JPEGLosslessSV1                = "1.2.840.10008.1.2.4.70"
	JPEGLSLossless                 = "1.2.840.10008.1.2.4.80"
	JPEGLSNearLossless             = "1.2.840.10008.1.2.4.81"
	JPEG2000Lossless               = "1.2.840.10008.1.2.4.90"
	JPEG2000                       = "1.2.840.10008.1.2.4.91"
	HTJ2KLossless                  = "1.2.840.10008.1.2.4.201"
	HTJ2KLosslessRPCL              = "1.2.840.10008.1.2.4.202"
	HTJ2K                          = "1.2.840.10008.1.2.4.203"
)
