{
	"patcher" : {
		"fileversion" : 1,
		"appversion" : {
			"major" : 8,
			"minor" : 5,
			"revision" : 5,
			"architecture" : "x64",
			"modernui" : 1
		},
		"classnamespace" : "box",
		"rect" : [ 80.0, 80.0, 1320.0, 760.0 ],
		"openinpresentation" : 1,
		"devicewidth" : 720.0,
		"default_fontsize" : 10.0,
		"default_fontface" : 0,
		"default_fontname" : "Ableton Sans Medium",
		"gridonopen" : 1,
		"gridsize" : [ 8.0, 8.0 ],
		"description" : "sonocanvas: type an image prompt and an audio prompt, press Generate (or Riff on a clip in Live), get a clip that is also a picture.",
		"boxes" : [
			{
				"box" : {
					"id" : "obj-1",
					"maxclass" : "newobj",
					"numinlets" : 2,
					"numoutlets" : 2,
					"outlettype" : [ "signal", "signal" ],
					"patching_rect" : [ 20.0, 20.0, 50.0, 22.0 ],
					"text" : "plugin~"
				}
			},
			{
				"box" : {
					"id" : "obj-2",
					"maxclass" : "newobj",
					"numinlets" : 2,
					"numoutlets" : 2,
					"outlettype" : [ "signal", "signal" ],
					"patching_rect" : [ 20.0, 80.0, 50.0, 22.0 ],
					"text" : "plugout~"
				}
			},
			{
				"box" : {
					"id" : "obj-3",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "bang", "int", "int" ],
					"patching_rect" : [ 120.0, 20.0, 90.0, 22.0 ],
					"text" : "live.thisdevice"
				}
			},
			{
				"box" : {
					"id" : "obj-4",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 120.0, 60.0, 48.0, 22.0 ],
					"text" : "loaded"
				}
			},
			{
				"box" : {
					"id" : "obj-5",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 120.0, 300.0, 160.0, 22.0 ],
					"text" : "js sonocanvas.js",
					"saved_object_attributes" : {
						"filename" : "sonocanvas.js",
						"parameter_enable" : 0
					}
				}
			},
			{
				"box" : {
					"id" : "obj-6",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 120.0, 360.0, 140.0, 22.0 ],
					"text" : "udpsend 127.0.0.1 9010"
				}
			},
			{
				"box" : {
					"id" : "obj-8",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 300.0, 400.0, 60.0, 22.0 ],
					"text" : "deferlow",
					"varname" : "replies_deferred"
				}
			},
			{
				"box" : {
					"id" : "obj-9",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 4.0, 621.0, 80.0, 29.0 ],
					"text" : "image prompt",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 2.0, 40.0, 29.0 ],
					"textjustification" : 0,
					"linecount" : 2
				}
			},
			{
				"box" : {
					"id" : "obj-10",
					"maxclass" : "textedit",
					"numinlets" : 1,
					"numoutlets" : 4,
					"outlettype" : [ "", "int", "", "" ],
					"patching_rect" : [ 20.0, 140.0, 240.0, 34.0 ],
					"text" : "",
					"varname" : "image_prompt",
					"keymode" : 1,
					"lines" : 2,
					"wordwrap" : 1,
					"outputmode" : 1,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 44.0, 2.0, 196.0, 32.0 ],
					"saved_attribute_attributes" : {
						"bgcolor" : {
							"expression" : "themecolor.live_lcd_bg"
						},
						"textcolor" : {
							"expression" : "themecolor.live_lcd_control_fg"
						}
					},
					"bgcolor" : [ 0.094, 0.118, 0.137, 1.0 ],
					"textcolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"annotation_name" : "Image prompt",
					"annotation" : "What the spectrogram picture should show, e.g. castle towers at dusk. Saved with the set."
				}
			},
			{
				"box" : {
					"id" : "obj-11",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 4.0, 667.0, 80.0, 29.0 ],
					"text" : "audio prompt",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 36.0, 40.0, 29.0 ],
					"textjustification" : 0,
					"linecount" : 2
				}
			},
			{
				"box" : {
					"id" : "obj-12",
					"maxclass" : "textedit",
					"numinlets" : 1,
					"numoutlets" : 4,
					"outlettype" : [ "", "int", "", "" ],
					"patching_rect" : [ 20.0, 180.0, 240.0, 34.0 ],
					"text" : "",
					"varname" : "audio_prompt",
					"keymode" : 1,
					"lines" : 2,
					"wordwrap" : 1,
					"outputmode" : 1,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 44.0, 36.0, 196.0, 32.0 ],
					"saved_attribute_attributes" : {
						"bgcolor" : {
							"expression" : "themecolor.live_lcd_bg"
						},
						"textcolor" : {
							"expression" : "themecolor.live_lcd_control_fg"
						}
					},
					"bgcolor" : [ 0.094, 0.118, 0.137, 1.0 ],
					"textcolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"annotation_name" : "Audio prompt",
					"annotation" : "What the sound should be, e.g. church bells, slow. Sections change it along the clip: bells @4 | choir (with fit to bars or loop on; @4 is 4 bars). Saved with the set."
				}
			},
			{
				"box" : {
					"id" : "obj-13",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 270.0, 140.0, 250.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Image prompt",
							"parameter_modmode" : 0,
							"parameter_shortname" : "Image",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr image_prompt_text",
					"varname" : "image_prompt_text"
				}
			},
			{
				"box" : {
					"id" : "obj-14",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 270.0, 180.0, 250.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Audio prompt",
							"parameter_modmode" : 0,
							"parameter_shortname" : "Audio",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr audio_prompt_text",
					"varname" : "audio_prompt_text"
				}
			},
			{
				"box" : {
					"id" : "obj-15",
					"maxclass" : "live.menu",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "float" ],
					"patching_rect" : [ 20.0, 240.0, 110.0, 15.0 ],
					"varname" : "preset",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 72.0, 116.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Preset",
							"parameter_shortname" : "Preset",
							"parameter_type" : 2,
							"parameter_enum" : [ "(none)" ],
							"parameter_mmax" : 0.0,
							"parameter_invisible" : 2
						}
					},
					"annotation_name" : "Preset",
					"annotation" : "A preset the server knows. Picking one fills the controls with its values; (none): only the controls count."
				}
			},
			{
				"box" : {
					"id" : "obj-16",
					"maxclass" : "live.menu",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "float" ],
					"patching_rect" : [ 140.0, 240.0, 110.0, 15.0 ],
					"varname" : "fx",
					"presentation" : 1,
					"presentation_rect" : [ 124.0, 72.0, 116.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Effect chain",
							"parameter_shortname" : "FX",
							"parameter_type" : 2,
							"parameter_enum" : [ "(none)" ],
							"parameter_mmax" : 0.0,
							"parameter_invisible" : 2
						}
					},
					"annotation_name" : "Effect chain",
					"annotation" : "An effect chain from the server's catalogue, applied to the clip (the dry clip is kept too)."
				}
			},
			{
				"box" : {
					"id" : "obj-17",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 20.0, 262.0, 45.0, 22.0 ],
					"text" : "preset"
				}
			},
			{
				"box" : {
					"id" : "obj-18",
					"maxclass" : "live.text",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 20.0, 440.0, 60.0, 20.0 ],
					"text" : "Generate",
					"varname" : "generate",
					"mode" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 92.0, 56.0, 20.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Generate",
							"parameter_shortname" : "Generate",
							"parameter_type" : 2,
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_mmax" : 1.0,
							"parameter_invisible" : 2
						}
					},
					"transition" : 1,
					"annotation_name" : "Generate",
					"annotation" : "Make a clip from the prompts. It goes into the first empty clip slot of this track, or into the first free gap at the insert marker in the Arrangement."
				}
			},
			{
				"box" : {
					"id" : "obj-19",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 20.0, 464.0, 60.0, 22.0 ],
					"text" : "generate"
				}
			},
			{
				"box" : {
					"id" : "obj-20",
					"maxclass" : "live.text",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 90.0, 440.0, 60.0, 20.0 ],
					"text" : "Cancel",
					"varname" : "cancel",
					"mode" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 184.0, 92.0, 56.0, 20.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Cancel",
							"parameter_shortname" : "Cancel",
							"parameter_type" : 2,
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_mmax" : 1.0,
							"parameter_invisible" : 2
						}
					},
					"transition" : 1,
					"annotation_name" : "Cancel",
					"annotation" : "Cancel this device's running or queued requests."
				}
			},
			{
				"box" : {
					"id" : "obj-21",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 90.0, 464.0, 60.0, 22.0 ],
					"text" : "cancel"
				}
			},
			{
				"box" : {
					"id" : "obj-22",
					"maxclass" : "live.text",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 160.0, 440.0, 60.0, 20.0 ],
					"text" : "Audition",
					"varname" : "audition",
					"mode" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 446.0, 92.0, 72.0, 20.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Audition",
							"parameter_shortname" : "Audition",
							"parameter_type" : 2,
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_mmax" : 1.0,
							"parameter_invisible" : 2
						}
					},
					"transition" : 1,
					"annotation_name" : "Audition",
					"annotation" : "Play the latest clip on the server's audio output."
				}
			},
			{
				"box" : {
					"id" : "obj-23",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 160.0, 464.0, 60.0, 22.0 ],
					"text" : "audition"
				}
			},
			{
				"box" : {
					"id" : "obj-24",
					"maxclass" : "live.text",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 230.0, 440.0, 60.0, 20.0 ],
					"text" : "Stop",
					"varname" : "stop",
					"mode" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 522.0, 92.0, 72.0, 20.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Stop",
							"parameter_shortname" : "Stop",
							"parameter_type" : 2,
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_mmax" : 1.0,
							"parameter_invisible" : 2
						}
					},
					"transition" : 1,
					"annotation_name" : "Stop",
					"annotation" : "Stop the audition the server is playing."
				}
			},
			{
				"box" : {
					"id" : "obj-25",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 230.0, 464.0, 60.0, 22.0 ],
					"text" : "stop"
				}
			},
			{
				"box" : {
					"id" : "obj-26",
					"maxclass" : "multislider",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 20.0, 500.0, 236.0, 8.0 ],
					"varname" : "progress",
					"size" : 1,
					"setminmax" : [ 0.0, 1.0 ],
					"orientation" : 0,
					"setstyle" : 1,
					"slidercolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"ignoreclick" : 1,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 116.0, 236.0, 6.0 ],
					"saved_attribute_attributes" : {
						"slidercolor" : {
							"expression" : "themecolor.live_control_selection"
						},
						"bgcolor" : {
							"expression" : "themecolor.live_control_bg"
						}
					},
					"annotation_name" : "Progress",
					"annotation" : "How far the server is with the current clip.",
					"bgcolor" : [ 0.2, 0.2, 0.2, 1.0 ]
				}
			},
			{
				"box" : {
					"id" : "obj-27",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 20.0, 520.0, 420.0, 40.0 ],
					"text" : "Start `sonocanvas serve`, then press Generate.",
					"varname" : "status",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 128.0, 590.0, 40.0 ],
					"textjustification" : 0,
					"linecount" : 3,
					"annotation_name" : "Status",
					"annotation" : "What the server is doing, where a clip went, or why it could not go there (with the file's path)."
				}
			},
			{
				"box" : {
					"id" : "obj-28",
					"maxclass" : "live.dial",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 600.0, 20.0, 44.0, 48.0 ],
					"varname" : "guidance",
					"presentation" : 1,
					"presentation_rect" : [ 248.0, 2.0, 44.0, 48.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Guidance",
							"parameter_shortname" : "Guidance",
							"parameter_type" : 0,
							"parameter_mmin" : 0.0,
							"parameter_mmax" : 50.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 10.0 ],
							"parameter_unitstyle" : 1
						}
					},
					"annotation_name" : "Guidance",
					"annotation" : "How strongly both models follow their prompts."
				}
			},
			{
				"box" : {
					"id" : "obj-29",
					"maxclass" : "live.dial",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 650.0, 20.0, 44.0, 48.0 ],
					"varname" : "audio_weight",
					"presentation" : 1,
					"presentation_rect" : [ 296.0, 2.0, 44.0, 48.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Audio weight",
							"parameter_shortname" : "Audio wt",
							"parameter_type" : 0,
							"parameter_mmin" : 0.0,
							"parameter_mmax" : 1.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0.5 ],
							"parameter_unitstyle" : 1
						}
					},
					"annotation_name" : "Audio weight",
					"annotation" : "0: the image model alone; 1: the audio model alone; 0.5 balances picture and sound."
				}
			},
			{
				"box" : {
					"id" : "obj-30",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 346.0, 622.0, 40.0, 18.0 ],
					"text" : "steps",
					"presentation" : 1,
					"presentation_rect" : [ 346.0, 2.0, 50.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-31",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 600.0, 80.0, 44.0, 15.0 ],
					"varname" : "steps",
					"presentation" : 1,
					"presentation_rect" : [ 398.0, 3.0, 42.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Steps",
							"parameter_shortname" : "Steps",
							"parameter_type" : 0,
							"parameter_mmin" : 1.0,
							"parameter_mmax" : 500.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 100 ],
							"parameter_unitstyle" : 0
						}
					},
					"annotation_name" : "Steps",
					"annotation" : "Sampling steps: more is slower and cleaner."
				}
			},
			{
				"box" : {
					"id" : "obj-32",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 390.0, 622.0, 50.0, 18.0 ],
					"text" : "variations",
					"presentation" : 1,
					"presentation_rect" : [ 346.0, 20.0, 50.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-33",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 650.0, 80.0, 44.0, 15.0 ],
					"varname" : "variations",
					"presentation" : 1,
					"presentation_rect" : [ 398.0, 21.0, 42.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Variations",
							"parameter_shortname" : "Vars",
							"parameter_type" : 0,
							"parameter_mmin" : 1.0,
							"parameter_mmax" : 64.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 1 ],
							"parameter_unitstyle" : 0
						}
					},
					"annotation_name" : "Variations",
					"annotation" : "How many clips one press makes, with consecutive seeds (the server allows up to 8 unless its config says otherwise). With Keep, how many candidates to choose from (up to 64)."
				}
			},
			{
				"box" : {
					"id" : "obj-34",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 346.0, 653.0, 40.0, 18.0 ],
					"text" : "seed",
					"presentation" : 1,
					"presentation_rect" : [ 248.0, 56.0, 28.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-35",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 600.0, 110.0, 44.0, 15.0 ],
					"varname" : "seed",
					"presentation" : 1,
					"presentation_rect" : [ 278.0, 57.0, 54.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Seed",
							"parameter_shortname" : "Seed",
							"parameter_type" : 0,
							"parameter_mmin" : 0.0,
							"parameter_mmax" : 999999.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ],
							"parameter_unitstyle" : 0
						}
					},
					"annotation_name" : "Seed",
					"annotation" : "The seed used while lock is on."
				}
			},
			{
				"box" : {
					"id" : "obj-36",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 410.0, 653.0, 30.0, 18.0 ],
					"text" : "lock",
					"presentation" : 1,
					"presentation_rect" : [ 352.0, 56.0, 28.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-37",
					"maxclass" : "live.toggle",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 670.0, 110.0, 15.0, 15.0 ],
					"varname" : "seed_lock",
					"presentation" : 1,
					"presentation_rect" : [ 336.0, 57.0, 15.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Seed lock",
							"parameter_shortname" : "Lock",
							"parameter_type" : 2,
							"parameter_enum" : [ "off", "on" ],
							"parameter_mmax" : 1.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ]
						}
					},
					"annotation_name" : "Seed lock",
					"annotation" : "On: every Generate uses the seed box. Turning it on keeps the seed of the clip just made."
				}
			},
			{
				"box" : {
					"id" : "obj-38",
					"maxclass" : "live.tab",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "float" ],
					"patching_rect" : [ 600.0, 140.0, 90.0, 15.0 ],
					"varname" : "audio_model",
					"num_lines_patching" : 1,
					"num_lines_presentation" : 1,
					"presentation" : 1,
					"presentation_rect" : [ 248.0, 75.0, 192.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Audio model",
							"parameter_shortname" : "Model",
							"parameter_type" : 2,
							"parameter_enum" : [ "auffusion", "riffusion" ],
							"parameter_mmax" : 1.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ]
						}
					},
					"annotation_name" : "Audio model",
					"annotation" : "Which audio model paints the sound."
				}
			},
			{
				"box" : {
					"id" : "obj-39",
					"maxclass" : "live.toggle",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 600.0, 170.0, 15.0, 15.0 ],
					"varname" : "fit_bars",
					"presentation" : 1,
					"presentation_rect" : [ 248.0, 93.0, 15.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Fit to bars",
							"parameter_shortname" : "Fit",
							"parameter_type" : 2,
							"parameter_enum" : [ "off", "on" ],
							"parameter_mmax" : 1.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ]
						}
					},
					"annotation_name" : "Fit to bars",
					"annotation" : "Time-stretch the clip to a whole number of bars at the set's tempo."
				}
			},
			{
				"box" : {
					"id" : "obj-40",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 264.0, 706.0, 60.0, 18.0 ],
					"text" : "fit to bars",
					"presentation" : 1,
					"presentation_rect" : [ 264.0, 92.0, 56.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-41",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 650.0, 170.0, 44.0, 15.0 ],
					"varname" : "bars",
					"presentation" : 1,
					"presentation_rect" : [ 322.0, 93.0, 32.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Bars",
							"parameter_shortname" : "Bars",
							"parameter_type" : 0,
							"parameter_mmin" : 1.0,
							"parameter_mmax" : 64.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 4 ],
							"parameter_unitstyle" : 0
						}
					},
					"annotation_name" : "Bars",
					"annotation" : "How many bars the clip lasts when Fit to bars or Loop is on (bars of 4/4 at the set's tempo)."
				}
			},
			{
				"box" : {
					"id" : "obj-72",
					"maxclass" : "live.toggle",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 600.0, 200.0, 15.0, 15.0 ],
					"varname" : "loop",
					"presentation" : 1,
					"presentation_rect" : [ 358.0, 93.0, 15.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Loop",
							"parameter_shortname" : "Loop",
							"parameter_type" : 2,
							"parameter_enum" : [ "off", "on" ],
							"parameter_mmax" : 1.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ]
						}
					},
					"annotation_name" : "Loop",
					"annotation" : "On: a seamless loop exactly Bars bars long at the set's tempo (its end flows into its start). It is placed warped, with looping on and its loop covering exactly those bars."
				}
			},
			{
				"box" : {
					"id" : "obj-73",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 620.0, 200.0, 30.0, 18.0 ],
					"text" : "loop",
					"presentation" : 1,
					"presentation_rect" : [ 374.0, 92.0, 28.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-74",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 600.0, 230.0, 44.0, 18.0 ],
					"text" : "keep best",
					"presentation" : 1,
					"presentation_rect" : [ 248.0, 110.0, 50.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-75",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 650.0, 230.0, 44.0, 15.0 ],
					"varname" : "keep",
					"presentation" : 1,
					"presentation_rect" : [ 300.0, 111.0, 40.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Keep",
							"parameter_shortname" : "Keep",
							"parameter_type" : 0,
							"parameter_mmin" : 0.0,
							"parameter_mmax" : 64.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ],
							"parameter_unitstyle" : 0
						}
					},
					"annotation_name" : "Keep",
					"annotation" : "0: off. K: make Variations candidates, keep the K best by CLIP and CLAP score and place only those, named with their rank and scores. At most Variations. Greyed out when the server has no scorer to rank with."
				}
			},
			{
				"box" : {
					"id" : "obj-42",
					"maxclass" : "fpic",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "jit_matrix" ],
					"patching_rect" : [ 800.0, 20.0, 150.0, 140.0 ],
					"varname" : "picture",
					"autofit" : 1,
					"presentation" : 1,
					"presentation_rect" : [ 446.0, 2.0, 148.0, 86.0 ],
					"annotation_name" : "Picture",
					"annotation" : "The latest clip's spectrogram."
				}
			},
			{
				"box" : {
					"id" : "obj-43",
					"maxclass" : "led",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "int" ],
					"patching_rect" : [ 1000.0, 20.0, 15.0, 15.0 ],
					"varname" : "light",
					"parameter_enable" : 0,
					"ignoreclick" : 1,
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 5.0, 12.0, 12.0 ],
					"saved_attribute_attributes" : {
						"oncolor" : {
							"expression" : "themecolor.live_control_selection"
						},
						"offcolor" : {
							"expression" : "themecolor.live_control_bg"
						}
					},
					"oncolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"annotation_name" : "Connection",
					"annotation" : "On while the server answers.",
					"offcolor" : [ 0.2, 0.2, 0.2, 1.0 ]
				}
			},
			{
				"box" : {
					"id" : "obj-44",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 614.0, 621.0, 60.0, 18.0 ],
					"text" : "server",
					"presentation" : 1,
					"presentation_rect" : [ 614.0, 2.0, 60.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-45",
					"maxclass" : "textedit",
					"numinlets" : 1,
					"numoutlets" : 4,
					"outlettype" : [ "", "int", "", "" ],
					"patching_rect" : [ 1000.0, 60.0, 110.0, 18.0 ],
					"text" : "127.0.0.1",
					"varname" : "host",
					"keymode" : 1,
					"lines" : 1,
					"outputmode" : 1,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 20.0, 116.0, 18.0 ],
					"saved_attribute_attributes" : {
						"bgcolor" : {
							"expression" : "themecolor.live_lcd_bg"
						},
						"textcolor" : {
							"expression" : "themecolor.live_lcd_control_fg"
						}
					},
					"bgcolor" : [ 0.094, 0.118, 0.137, 1.0 ],
					"textcolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"annotation_name" : "Server",
					"annotation" : "The address of the computer that runs sonocanvas serve. Press Enter to reconnect."
				}
			},
			{
				"box" : {
					"id" : "obj-46",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 1120.0, 60.0, 170.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Server host",
							"parameter_modmode" : 0,
							"parameter_shortname" : "Host",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr host_text @bindto host",
					"varname" : "host_text"
				}
			},
			{
				"box" : {
					"id" : "obj-47",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 600.0, 657.0, 40.0, 18.0 ],
					"text" : "port",
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 40.0, 56.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-48",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 1000.0, 100.0, 44.0, 15.0 ],
					"varname" : "server_port",
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 58.0, 56.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Server port",
							"parameter_shortname" : "Port",
							"parameter_type" : 0,
							"parameter_mmin" : 1.0,
							"parameter_mmax" : 65535.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 9010 ],
							"parameter_unitstyle" : 0,
							"parameter_invisible" : 1
						}
					},
					"annotation_name" : "Server port",
					"annotation" : "The port sonocanvas serve listens on."
				}
			},
			{
				"box" : {
					"id" : "obj-49",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 660.0, 657.0, 60.0, 18.0 ],
					"text" : "reply port",
					"presentation" : 1,
					"presentation_rect" : [ 660.0, 40.0, 56.0, 18.0 ],
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-50",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"patching_rect" : [ 1060.0, 100.0, 44.0, 15.0 ],
					"varname" : "reply_port",
					"presentation" : 1,
					"presentation_rect" : [ 660.0, 58.0, 56.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Reply port",
							"parameter_shortname" : "Reply",
							"parameter_type" : 0,
							"parameter_mmin" : 0.0,
							"parameter_mmax" : 65535.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 0 ],
							"parameter_unitstyle" : 0,
							"parameter_invisible" : 1
						}
					},
					"annotation_name" : "Reply port",
					"annotation" : "The port this device listens on for replies; 0 picks the first one no other sonocanvas device uses."
				}
			},
			{
				"box" : {
					"id" : "obj-51",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "bang" ],
					"patching_rect" : [ 1000.0, 84.0, 24.0, 22.0 ],
					"text" : "t b"
				}
			},
			{
				"box" : {
					"id" : "obj-52",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 1000.0, 130.0, 52.0, 22.0 ],
					"text" : "connect"
				}
			},
			{
				"box" : {
					"id" : "obj-60",
					"maxclass" : "live.text",
					"mode" : 0,
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"parameter_enable" : 1,
					"patching_rect" : [ 300.0, 440.0, 60.0, 20.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 64.0, 92.0, 56.0, 20.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_invisible" : 2,
							"parameter_longname" : "Riff",
							"parameter_mmax" : 1.0,
							"parameter_modmode" : 0,
							"parameter_shortname" : "Riff",
							"parameter_type" : 2
						}
					},
					"text" : "Riff",
					"varname" : "riff",
					"transition" : 1,
					"annotation_name" : "Riff",
					"annotation" : "Make a clip that starts from the audio clip shown in the Detail View (or the selected Session clip), over the region between its markers. The result goes beside the original, never over it."
				}
			},
			{
				"box" : {
					"id" : "obj-61",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 300.0, 470.0, 30.0, 22.0 ],
					"text" : "riff"
				}
			},
			{
				"box" : {
					"id" : "obj-62",
					"maxclass" : "live.numbox",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "float" ],
					"parameter_enable" : 1,
					"patching_rect" : [ 460.0, 706.0, 40.0, 15.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 398.0, 39.0, 42.0, 15.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_initial" : [ 0.6 ],
							"parameter_initial_enable" : 1,
							"parameter_longname" : "Riff strength",
							"parameter_mmax" : 1.0,
							"parameter_mmin" : 0.0,
							"parameter_modmode" : 0,
							"parameter_shortname" : "Strength",
							"parameter_type" : 0,
							"parameter_unitstyle" : 1
						}
					},
					"varname" : "strength",
					"annotation_name" : "Riff strength",
					"annotation" : "How far a riff may move from the original clip: 0 keeps it, 1 keeps nothing of it."
				}
			},
			{
				"box" : {
					"id" : "obj-63",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 400.0, 706.0, 50.0, 18.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 346.0, 38.0, 50.0, 18.0 ],
					"text" : "strength",
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-64",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 346.0, 690.0, 94.0, 18.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 380.0, 56.0, 60.0, 18.0 ],
					"text" : "",
					"textjustification" : 0,
					"varname" : "last_seed",
					"annotation_name" : "Last seed",
					"annotation" : "The seed of the latest clip."
				}
			},
			{
				"box" : {
					"id" : "obj-65",
					"maxclass" : "live.comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 600.0, 700.0, 40.0, 18.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 76.0, 60.0, 18.0 ],
					"text" : "token",
					"textjustification" : 0
				}
			},
			{
				"box" : {
					"id" : "obj-66",
					"maxclass" : "textedit",
					"keymode" : 1,
					"lines" : 1,
					"numinlets" : 1,
					"numoutlets" : 4,
					"outlettype" : [ "", "int", "", "" ],
					"outputmode" : 1,
					"parameter_enable" : 0,
					"patching_rect" : [ 1000.0, 100.0, 110.0, 18.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 94.0, 116.0, 18.0 ],
					"text" : "",
					"varname" : "token",
					"saved_attribute_attributes" : {
						"bgcolor" : {
							"expression" : "themecolor.live_lcd_bg"
						},
						"textcolor" : {
							"expression" : "themecolor.live_lcd_control_fg"
						}
					},
					"bgcolor" : [ 0.094, 0.118, 0.137, 1.0 ],
					"textcolor" : [ 1.0, 0.709803921568627, 0.196078431372549, 1.0 ],
					"annotation_name" : "Token",
					"annotation" : "The token of a server started with one (a server on another computer). Press Enter to reconnect."
				}
			},
			{
				"box" : {
					"id" : "obj-67",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 1000.0, 130.0, 160.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Server token",
							"parameter_modmode" : 0,
							"parameter_shortname" : "Token",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr token_text @bindto token",
					"varname" : "token_text"
				}
			},
			{
				"box" : {
					"id" : "obj-68",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 20.0, 270.0, 120.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Preset name",
							"parameter_modmode" : 0,
							"parameter_shortname" : "Preset",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr preset_name",
					"varname" : "preset_name"
				}
			},
			{
				"box" : {
					"id" : "obj-69",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 140.0, 270.0, 120.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "Effect chain name",
							"parameter_modmode" : 0,
							"parameter_shortname" : "FX name",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr fx_name",
					"varname" : "fx_name"
				}
			},
			{
				"box" : {
					"id" : "obj-70",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 140.0, 300.0, 24.0, 22.0 ],
					"text" : "fx"
				}
			},
			{
				"box" : {
					"id" : "obj-71",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 412.0, 690.0, 32.0, 22.0 ],
					"text" : "lock"
				}
			},
			{
				"box" : {
					"id" : "obj-76",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "bang" ],
					"patching_rect" : [ 270.0, 164.0, 24.0, 22.0 ],
					"text" : "t b"
				}
			},
			{
				"box" : {
					"id" : "obj-77",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 300.0, 164.0, 56.0, 22.0 ],
					"text" : "deferlow"
				}
			},
			{
				"box" : {
					"id" : "obj-78",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 360.0, 164.0, 150.0, 22.0 ],
					"text" : "prepend typed image_prompt"
				}
			},
			{
				"box" : {
					"id" : "obj-80",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "bang" ],
					"patching_rect" : [ 270.0, 204.0, 24.0, 22.0 ],
					"text" : "t b"
				}
			},
			{
				"box" : {
					"id" : "obj-81",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 300.0, 204.0, 56.0, 22.0 ],
					"text" : "deferlow"
				}
			},
			{
				"box" : {
					"id" : "obj-82",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 360.0, 204.0, 150.0, 22.0 ],
					"text" : "prepend typed audio_prompt"
				}
			},
			{
				"box" : {
					"id" : "obj-90",
					"maxclass" : "live.text",
					"mode" : 0,
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"parameter_enable" : 1,
					"patching_rect" : [ 370.0, 440.0, 60.0, 20.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 124.0, 92.0, 56.0, 20.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_enum" : [ "val1", "val2" ],
							"parameter_invisible" : 2,
							"parameter_longname" : "See",
							"parameter_mmax" : 1.0,
							"parameter_modmode" : 0,
							"parameter_shortname" : "See",
							"parameter_type" : 2
						}
					},
					"text" : "See",
					"varname" : "see",
					"transition" : 1,
					"annotation_name" : "See",
					"annotation" : "Restyle a picture the way the audio clip in the Detail View (or the selected Session clip) sounds, over the region between its markers: the picture dropped onto the picture panel, else the clip's own. The result shows in the picture panel."
				}
			},
			{
				"box" : {
					"id" : "obj-91",
					"maxclass" : "message",
					"numinlets" : 2,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 370.0, 470.0, 30.0, 22.0 ],
					"text" : "see"
				}
			},
			{
				"box" : {
					"id" : "obj-92",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 3,
					"outlettype" : [ "", "", "" ],
					"patching_rect" : [ 960.0, 200.0, 120.0, 22.0 ],
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_invisible" : 1,
							"parameter_longname" : "See picture",
							"parameter_modmode" : 0,
							"parameter_shortname" : "See picture",
							"parameter_type" : 3
						}
					},
					"saved_object_attributes" : {
						"parameter_enable" : 1,
						"parameter_mappable" : 0
					},
					"text" : "pattr see_picture",
					"varname" : "see_picture"
				}
			},
			{
				"box" : {
					"id" : "obj-93",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 960.0, 170.0, 100.0, 22.0 ],
					"text" : "prepend dropped"
				}
			},
			{
				"box" : {
					"id" : "obj-94",
					"maxclass" : "dropfile",
					"numinlets" : 1,
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
					"patching_rect" : [ 960.0, 20.0, 150.0, 140.0 ],
					"presentation" : 1,
					"presentation_rect" : [ 446.0, 2.0, 148.0, 86.0 ],
					"varname" : "picture_drop",
					"border" : 0,
					"annotation_name" : "Picture",
					"annotation" : "The latest clip's picture, or a preview as one forms. Drop a picture file here for See to restyle; it is kept with the set."
				}
			}
		],
		"lines" : [
			{
				"patchline" : {
					"destination" : [ "obj-2", 0 ],
					"source" : [ "obj-1", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-2", 1 ],
					"source" : [ "obj-1", 1 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-4", 0 ],
					"source" : [ "obj-3", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-4", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-6", 0 ],
					"source" : [ "obj-5", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-8", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-17", 0 ],
					"source" : [ "obj-15", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-17", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-19", 0 ],
					"source" : [ "obj-18", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-19", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-21", 0 ],
					"source" : [ "obj-20", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-21", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-23", 0 ],
					"source" : [ "obj-22", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-23", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-25", 0 ],
					"source" : [ "obj-24", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-25", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-51", 0 ],
					"source" : [ "obj-45", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-52", 0 ],
					"source" : [ "obj-51", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-52", 0 ],
					"source" : [ "obj-48", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-52", 0 ],
					"source" : [ "obj-50", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-52", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-60", 0 ],
					"destination" : [ "obj-61", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-61", 0 ],
					"destination" : [ "obj-5", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-66", 0 ],
					"destination" : [ "obj-51", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-16", 0 ],
					"destination" : [ "obj-70", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-70", 0 ],
					"destination" : [ "obj-5", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-37", 0 ],
					"destination" : [ "obj-71", 0 ]
				}
			},
			{
				"patchline" : {
					"source" : [ "obj-71", 0 ],
					"destination" : [ "obj-5", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-76", 0 ],
					"source" : [ "obj-10", 1 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-77", 0 ],
					"source" : [ "obj-76", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-10", 0 ],
					"source" : [ "obj-77", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-78", 0 ],
					"source" : [ "obj-10", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-78", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-80", 0 ],
					"source" : [ "obj-12", 1 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-81", 0 ],
					"source" : [ "obj-80", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-12", 0 ],
					"source" : [ "obj-81", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-82", 0 ],
					"source" : [ "obj-12", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-82", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-91", 0 ],
					"source" : [ "obj-90", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-91", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-93", 0 ],
					"source" : [ "obj-94", 0 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-5", 0 ],
					"source" : [ "obj-93", 0 ]
				}
			}
		],
		"dependency_cache" : [
			{
				"name" : "sonocanvas.js",
				"bootpath" : ".",
				"type" : "TEXT",
				"implicit" : 1
			}
		],
		"autosave" : 0
	}
}
