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
		"default_fontname" : "Arial",
		"gridonopen" : 1,
		"gridsize" : [ 8.0, 8.0 ],
		"description" : "sonocanvas: type an image prompt and an audio prompt, press Generate, get a clip that is also a picture.",
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
					"numoutlets" : 2,
					"outlettype" : [ "", "" ],
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
					"id" : "obj-7",
					"maxclass" : "newobj",
					"numinlets" : 1,
					"numoutlets" : 1,
					"outlettype" : [ "" ],
					"patching_rect" : [ 300.0, 360.0, 100.0, 22.0 ],
					"text" : "udpreceive 9011"
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
					"text" : "deferlow"
				}
			},
			{
				"box" : {
					"id" : "obj-9",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 4.0, 621.0, 80.0, 15.0 ],
					"text" : "image prompt",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 1.0, 80.0, 15.0 ],
					"fontsize" : 9.0
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
					"fontsize" : 10.0,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 14.0, 236.0, 32.0 ]
				}
			},
			{
				"box" : {
					"id" : "obj-11",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 4.0, 667.0, 80.0, 15.0 ],
					"text" : "audio prompt",
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 47.0, 80.0, 15.0 ],
					"fontsize" : 9.0
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
					"fontsize" : 10.0,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 60.0, 236.0, 32.0 ]
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
					"text" : "pattr image_prompt_text @bindto image_prompt",
					"varname" : "image_prompt_text",
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Image prompt",
							"parameter_shortname" : "Image",
							"parameter_type" : 3,
							"parameter_invisible" : 1
						}
					}
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
					"text" : "pattr audio_prompt_text @bindto audio_prompt",
					"varname" : "audio_prompt_text",
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Audio prompt",
							"parameter_shortname" : "Audio",
							"parameter_type" : 3,
							"parameter_invisible" : 1
						}
					}
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
					"presentation_rect" : [ 4.0, 97.0, 116.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Preset",
							"parameter_shortname" : "Preset",
							"parameter_type" : 2,
							"parameter_enum" : [ "(none)" ],
							"parameter_mmax" : 0.0,
							"parameter_invisible" : 1
						}
					}
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
					"presentation_rect" : [ 124.0, 97.0, 116.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Effect chain",
							"parameter_shortname" : "FX",
							"parameter_type" : 2,
							"parameter_enum" : [ "(none)" ],
							"parameter_mmax" : 0.0,
							"parameter_invisible" : 1
						}
					}
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
					"presentation_rect" : [ 4.0, 116.0, 80.0, 20.0 ],
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
					}
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
					"presentation_rect" : [ 88.0, 116.0, 50.0, 20.0 ],
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
					}
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
					"presentation_rect" : [ 142.0, 116.0, 52.0, 20.0 ],
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
					}
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
					"presentation_rect" : [ 198.0, 116.0, 42.0, 20.0 ],
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
					}
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
					"slidercolor" : [ 0.98, 0.66, 0.15, 1.0 ],
					"ignoreclick" : 1,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 139.0, 236.0, 7.0 ]
				}
			},
			{
				"box" : {
					"id" : "obj-27",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 20.0, 520.0, 420.0, 15.0 ],
					"text" : "Start `sonocanvas serve`, then press Generate.",
					"varname" : "status",
					"fontsize" : 9.0,
					"presentation" : 1,
					"presentation_rect" : [ 4.0, 149.0, 590.0, 15.0 ]
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
					}
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
					}
				}
			},
			{
				"box" : {
					"id" : "obj-30",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 346.0, 622.0, 40.0, 15.0 ],
					"text" : "steps",
					"presentation" : 1,
					"presentation_rect" : [ 346.0, 2.0, 40.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 346.0, 15.0, 40.0, 15.0 ],
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
					}
				}
			},
			{
				"box" : {
					"id" : "obj-32",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 390.0, 622.0, 50.0, 15.0 ],
					"text" : "variations",
					"presentation" : 1,
					"presentation_rect" : [ 390.0, 2.0, 50.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 390.0, 15.0, 40.0, 15.0 ],
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Variations",
							"parameter_shortname" : "Vars",
							"parameter_type" : 0,
							"parameter_mmin" : 1.0,
							"parameter_mmax" : 8.0,
							"parameter_initial_enable" : 1,
							"parameter_initial" : [ 1 ],
							"parameter_unitstyle" : 0
						}
					}
				}
			},
			{
				"box" : {
					"id" : "obj-34",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 346.0, 653.0, 40.0, 15.0 ],
					"text" : "seed",
					"presentation" : 1,
					"presentation_rect" : [ 346.0, 33.0, 40.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 346.0, 46.0, 60.0, 15.0 ],
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
					}
				}
			},
			{
				"box" : {
					"id" : "obj-36",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 410.0, 653.0, 30.0, 15.0 ],
					"text" : "lock",
					"presentation" : 1,
					"presentation_rect" : [ 410.0, 33.0, 30.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 412.0, 46.0, 15.0, 15.0 ],
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
					}
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
					"presentation_rect" : [ 248.0, 66.0, 192.0, 15.0 ],
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
					}
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
					"presentation_rect" : [ 248.0, 88.0, 15.0, 15.0 ],
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
					}
				}
			},
			{
				"box" : {
					"id" : "obj-40",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 264.0, 706.0, 60.0, 15.0 ],
					"text" : "fit to bars",
					"presentation" : 1,
					"presentation_rect" : [ 264.0, 86.0, 60.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 326.0, 88.0, 40.0, 15.0 ],
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
					}
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
					"presentation_rect" : [ 446.0, 2.0, 148.0, 142.0 ]
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
					"presentation_rect" : [ 600.0, 3.0, 12.0, 12.0 ]
				}
			},
			{
				"box" : {
					"id" : "obj-44",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 614.0, 621.0, 60.0, 15.0 ],
					"text" : "server",
					"presentation" : 1,
					"presentation_rect" : [ 614.0, 1.0, 60.0, 15.0 ],
					"fontsize" : 9.0
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
					"fontsize" : 9.0,
					"parameter_enable" : 0,
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 18.0, 116.0, 16.0 ]
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
					"text" : "pattr host_text @bindto host",
					"varname" : "host_text",
					"parameter_enable" : 1,
					"saved_attribute_attributes" : {
						"valueof" : {
							"parameter_longname" : "Server host",
							"parameter_shortname" : "Host",
							"parameter_type" : 3,
							"parameter_invisible" : 1
						}
					}
				}
			},
			{
				"box" : {
					"id" : "obj-47",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 600.0, 657.0, 40.0, 15.0 ],
					"text" : "port",
					"presentation" : 1,
					"presentation_rect" : [ 600.0, 37.0, 40.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 600.0, 50.0, 56.0, 15.0 ],
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
					}
				}
			},
			{
				"box" : {
					"id" : "obj-49",
					"maxclass" : "comment",
					"numinlets" : 1,
					"numoutlets" : 0,
					"patching_rect" : [ 660.0, 657.0, 60.0, 15.0 ],
					"text" : "reply (0 auto)",
					"presentation" : 1,
					"presentation_rect" : [ 660.0, 37.0, 60.0, 15.0 ],
					"fontsize" : 9.0
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
					"presentation_rect" : [ 660.0, 50.0, 56.0, 15.0 ],
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
					}
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
					"destination" : [ "obj-7", 0 ],
					"source" : [ "obj-5", 1 ]
				}
			},
			{
				"patchline" : {
					"destination" : [ "obj-8", 0 ],
					"source" : [ "obj-7", 0 ]
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
